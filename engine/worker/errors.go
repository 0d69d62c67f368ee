package worker

import "errors"

// ErrSimulated is wrapped by the failures a sim handler makes up, so that
// callers and tests can tell them from real ones with errors.Is.
var ErrSimulated = errors.New("simulated failure")

// permanentError marks a failure that retrying cannot fix.
type permanentError struct{ err error }

func (e *permanentError) Error() string { return e.err.Error() }
func (e *permanentError) Unwrap() error { return e.err }

// Permanent marks err as a failure that must not be retried (a webhook
// answering 4xx, a command that does not exist). The message is err's,
// unchanged, and errors.Is/As still see err. Permanent(nil) is nil.
func Permanent(err error) error {
	if err == nil {
		return nil
	}
	return &permanentError{err: err}
}

// IsPermanent reports whether err, or any error it wraps, was marked by
// Permanent. A nil error is not permanent.
func IsPermanent(err error) bool {
	var p *permanentError
	return errors.As(err, &p)
}
