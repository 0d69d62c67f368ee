package engine

import "time"

// RetentionConfig bounds how long the 5W1H record is kept (retention.go):
// audit entries with their narratives and clarity rows, and intents in a
// final state. The default keeps everything.
type RetentionConfig struct {
	// Records is how long records are kept; 0 keeps them forever.
	Records time.Duration `mapstructure:"records"`
	// ArchiveDir, when set, is the folder every pruned range of entries is
	// written to (a gzipped JSON-lines file) before it is deleted; a
	// relative path is in the data folder. Empty: pruned records are
	// deleted without an archive.
	ArchiveDir string `mapstructure:"archive_dir"`
	// Interval is how often old records are looked for.
	Interval time.Duration `mapstructure:"interval"`
}

// MinRecordRetention is the shortest retention.records other than 0: a
// shorter one would prune records the console is still showing.
const MinRecordRetention = time.Hour

func defaultRetention() RetentionConfig {
	return RetentionConfig{Records: 0, ArchiveDir: "", Interval: time.Hour}
}

// validateRetention checks the retention keys.
func (c Config) validateRetention(v *problems) {
	r := c.Retention
	v.check(r.Records == 0 || r.Records >= MinRecordRetention,
		"retention.records (%v) must be 0 (keep forever) or at least %v", r.Records, MinRecordRetention)
	v.tick("retention.interval", r.Interval)
}
