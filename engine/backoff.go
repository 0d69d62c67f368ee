package engine

import "time"

// backoff returns how long to wait before retrying after the attempt-th
// failed attempt (attempt >= 1): base doubled for every earlier failure,
// capped at max, then jittered into [d/2, d) by r in [0, 1) ("equal
// jitter": retries spread out but never come back sooner than half the
// backoff).
func backoff(attempt int, base, max time.Duration, r float64) time.Duration {
	d := base
	for i := 1; i < attempt && d < max; i++ {
		d *= 2
	}
	if d > max || d <= 0 { // d <= 0: overflow
		d = max
	}
	if r < 0 || r >= 1 {
		r = 0
	}
	half := d / 2
	return half + time.Duration(r*float64(d-half))
}
