package main

import (
	"context"
	"strings"

	"grace/engine"
	"grace/engine/notify"
)

// The engine is what the notifier follows, and it also tells the notifier
// of the approvals a previous run left waiting (as far as each webhook has
// not acknowledged them: the store keeps the acknowledgements), and
// records the notifications that fail for good.
var (
	_ notify.Source           = (*engine.Engine)(nil)
	_ notify.Waiting          = (*engine.Engine)(nil)
	_ notify.Acknowledgements = (*engine.Engine)(nil)
	_ notify.Recorder         = (*engine.Engine)(nil)
)

// newNotifier makes the notifier of notify.webhooks, nil when there are
// none. It fails, before anything is written, when a webhook's secret_env
// names a variable that is unset or empty; each line of the error starts
// with configFile (the file the webhooks were read from, when known) as a
// config error does, then the key and the webhook's name.
func newNotifier(s *system, configFile string) error {
	if len(s.cfg.Notify.Webhooks) == 0 {
		return nil
	}
	n, err := notify.New(s.cfg.Notify.Webhooks, notify.Options{Logger: s.log})
	if err != nil {
		if configFile == "" {
			return err
		}
		var lines []string
		for _, line := range strings.Split(err.Error(), "\n") {
			lines = append(lines, configFile+": "+line)
		}
		return &configError{lines: lines}
	}
	s.notifier = n
	return nil
}

// startNotifier subscribes the notifier to the engine's events and runs it
// until stopNotifier. Call it before the engine starts, so that an alert
// or approval request of the first moments is not missed.
func (s *system) startNotifier(ctx context.Context) {
	if s.notifier == nil {
		return
	}
	nctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	s.cancelNotify = cancel
	s.notifier.Start(nctx, s.eng)
	names := make([]string, len(s.cfg.Notify.Webhooks))
	for i, w := range s.cfg.Notify.Webhooks {
		names[i] = w.Name
	}
	s.log.Info("notifying webhooks of alerts and approval requests", "webhooks", strings.Join(names, ", "))
}

// stopNotifier stops the notifier once the engine has stopped (its last
// events seen): a request in flight gets a short grace, and what is left
// undelivered is logged as a count.
func (s *system) stopNotifier() {
	if s.cancelNotify == nil {
		return
	}
	s.cancelNotify()
	s.notifier.Wait()
}
