package mesh

import (
	"errors"
	"fmt"
	"time"
)

// Config is the mesh section of config.yaml.
type Config struct {
	// Buffer is a subscription's buffer (events) unless it asks for
	// another size.
	Buffer int `mapstructure:"buffer"`
	// Backpressure is a subscription's policy unless it asks for another.
	Backpressure string `mapstructure:"backpressure"`
	// BlockTimeout is how long a publisher waits for room in a "block"
	// subscription before the event is dropped.
	BlockTimeout time.Duration `mapstructure:"block_timeout"`
	// EpisodeQuiet ends a shedding episode: a subscription that has not
	// dropped for this long has its episode narrated and closed.
	EpisodeQuiet time.Duration `mapstructure:"episode_quiet"`
	// EpisodeMax narrates a long episode in parts: one record per this
	// much shedding even while it goes on.
	EpisodeMax time.Duration `mapstructure:"episode_max"`
	// Topics declares topics beyond the built-in ones, for policy rules
	// to emit on and subscribe to.
	Topics []string `mapstructure:"topics"`
}

// DefaultConfig returns the documented defaults.
func DefaultConfig() Config {
	return Config{
		Buffer: 1024, Backpressure: string(DropOldest), BlockTimeout: 50 * time.Millisecond,
		EpisodeQuiet: time.Second, EpisodeMax: time.Minute, Topics: []string{},
	}
}

// Validate returns every problem of c, each naming its key under prefix
// ("mesh.buffer must be at least 1").
func (c Config) Validate(prefix string) error {
	var errs []error
	add := func(format string, args ...any) { errs = append(errs, fmt.Errorf(prefix+"."+format, args...)) }
	if c.Buffer < 1 {
		add("buffer (%d) must be at least 1", c.Buffer)
	}
	if _, err := ParseBackpressure(c.Backpressure); err != nil {
		add("backpressure: %v", err)
	}
	if c.BlockTimeout <= 0 {
		add("block_timeout (%v) must be positive", c.BlockTimeout)
	}
	if c.EpisodeQuiet <= 0 {
		add("episode_quiet (%v) must be positive", c.EpisodeQuiet)
	}
	if c.EpisodeMax < c.EpisodeQuiet {
		add("episode_max (%v) must not be below episode_quiet (%v)", c.EpisodeMax, c.EpisodeQuiet)
	}
	for i, t := range c.Topics {
		if err := ValidTopic(t); err != nil {
			add("topics[%d]: %v", i, err)
		}
	}
	return errors.Join(errs...)
}
