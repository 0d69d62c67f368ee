package tui

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os/user"
	"time"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"

	"grace/engine"
)

// DefaultRefresh is the refresh interval when Options.Refresh is zero.
const DefaultRefresh = time.Second

// frameRate is how many times a second Bubble Tea's renderer wakes to
// write a changed frame. Its default, 60, costs an idle console a few
// tenths of a percent of a core in wake-ups alone; at 30 a key press still
// shows within a frame of 33 ms (BenchmarkKeyLatencyUnderLoad).
const frameRate = 30

// minStale is the least age at which figures are called stale, so a fast
// refresh does not flicker "updated … ago".
const minStale = 2 * time.Second

// Options configures the console.
type Options struct {
	// Operator is the name recorded with every approval and denial. Empty
	// means the login name of the user running the console; if that cannot
	// be found either, approve and deny are refused.
	Operator string
	// ReadOnly removes approve, deny, chaos run and halt, silence and
	// unsilence: their keys do nothing but say so, and help leaves them
	// out.
	ReadOnly bool
	// Refresh is how often the figures are refreshed; zero means
	// DefaultRefresh.
	Refresh time.Duration
	// Logger receives the console's logs; it must not write to the
	// terminal. Nil discards them.
	Logger *slog.Logger
	// Input and Output are the terminal; nil means stdin and stdout.
	Input  io.Reader
	Output io.Writer
	// Now is the clock; nil means time.Now. Tests fix it so that ages and
	// "updated … ago" are stable.
	Now func() time.Time
	// Keys overrides key bindings action by action (the console.keys
	// config; engine.DefaultConsoleKeys lists the actions). Nil keeps the
	// defaults. Run refuses an unknown action, an empty key list, or two
	// actions sharing a key on one screen.
	Keys map[string][]string
	// PopupsOff starts the console with approval popups off (the
	// console.popups config set to false): a Tier 0 arrival is named on
	// the status line and waits in the Approvals inbox instead of popping
	// up. The popups key turns them on and off; the zero value pops up.
	PopupsOff bool
	// NoAPI, when not empty, says why the console's engine serves no
	// HTTP API although api.listen names an address ("api.listen
	// 127.0.0.1:7420: bind: address already in use"): the CLI and agents
	// cannot reach it. The status line says so as the console starts
	// (and :messages keeps it), and the header marks it while it runs.
	NoAPI string
}

// Run shows the console on the terminal until the operator quits (q or
// ctrl+c) or ctx is cancelled, in both cases returning nil with the terminal
// restored. It returns an error only when the terminal cannot be driven.
func Run(ctx context.Context, api engine.OperatorAPI, opts Options) error {
	if api == nil {
		return errors.New("run console: no engine API")
	}
	if _, err := newKeyMap(opts.ReadOnly, opts.Keys); err != nil {
		return fmt.Errorf("run console: %w", err)
	}
	// Engine requests get their own context, ended when the operator quits;
	// the program itself stops early only when the caller's ctx ends.
	reqCtx, cancel := context.WithCancel(ctx)
	defer cancel()

	// Settle the colour profile and background before Bubble Tea owns the
	// terminal, so lipgloss never queries it mid-session.
	renderer := lipgloss.DefaultRenderer()
	if opts.Output != nil {
		renderer = lipgloss.NewRenderer(opts.Output)
	}
	renderer.ColorProfile()
	renderer.HasDarkBackground()

	m := newModel(reqCtx, cancel, api, opts, renderer)
	popts := []tea.ProgramOption{tea.WithContext(ctx), tea.WithAltScreen(), tea.WithFPS(frameRate)}
	if opts.Input != nil {
		popts = append(popts, tea.WithInput(opts.Input))
	}
	if opts.Output != nil {
		popts = append(popts, tea.WithOutput(opts.Output))
	}
	_, err := tea.NewProgram(m, popts...).Run()
	switch {
	case err == nil, errors.Is(err, tea.ErrInterrupted):
		return nil
	case errors.Is(err, tea.ErrProgramKilled) && ctx.Err() != nil:
		return nil
	}
	m.pc.log.Error("console stopped", "err", err)
	return fmt.Errorf("run console: %w", err)
}

// New returns the console's root model without starting a program, for
// tests and for embedding in another Bubble Tea program. Its engine
// requests use a context that ends when the model quits.
func New(api engine.OperatorAPI, opts Options) tea.Model {
	ctx, cancel := context.WithCancel(context.Background())
	return newModel(ctx, cancel, api, opts, lipgloss.DefaultRenderer())
}

// newModel wires the shared context, the screens and the popup.
func newModel(ctx context.Context, cancel context.CancelFunc, api engine.OperatorAPI, opts Options, r *lipgloss.Renderer) *model {
	if opts.Refresh <= 0 {
		opts.Refresh = DefaultRefresh
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.Operator == "" {
		if u, err := user.Current(); err == nil {
			opts.Operator = u.Username
		}
	}
	st := newStyles(r)
	keys, keyErr := newKeyMap(opts.ReadOnly, opts.Keys)
	if keyErr != nil {
		keys, _ = newKeyMap(opts.ReadOnly, nil)
	}
	pc := &programContext{
		ctx:      ctx,
		api:      api,
		log:      opts.Logger.With("component", "console"),
		operator: opts.Operator,
		readOnly: opts.ReadOnly,
		refresh:  opts.Refresh,
		now:      opts.Now,
		styles:   st,
		keys:     keys,
	}
	if b, ok := api.(baseURLer); ok {
		pc.server = serverName(b.BaseURL())
	}
	pc.chaos = &chaosState{}
	pc.chaos.api, _ = api.(engine.ChaosAPI)
	pc.health, _ = api.(alertHistory)
	pc.silencer, _ = api.(engine.AlertSilencer)
	if keyErr != nil {
		pc.fail(keyErr.Error() + " (using the default keys)")
	}
	if opts.NoAPI != "" {
		pc.noAPI = true
		pc.bgWarn(aboutNoAPI, "this console serves no HTTP API ("+opts.NoAPI+"): the CLI and agents cannot reach its engine; "+
			"stop what holds the port, or start the console with --set api.listen=127.0.0.1:PORT")
	}
	m := &model{
		pc:         pc,
		cancel:     cancel,
		dash:       newDashboard(pc),
		approvals:  newApprovals(pc),
		narratives: newNarratives(pc),
		alerts:     newAlerts(pc),
		chaos:      newChaos(pc),
		popup:      newPopup(pc),
		cmd:        newCmdLine(),
		intentCmd:  newDecider(ownerCommand),
		silence:    newSilenceFlow(),
		announced:  make(map[string]struct{}),
		popupsOff:  opts.PopupsOff,
		started:    pc.now(),
	}
	m.alerts.flow = &m.silence
	m.screens = []screen{m.dash, m.approvals, m.chaos, m.narratives, m.alerts}
	return m
}
