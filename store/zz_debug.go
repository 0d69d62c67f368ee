package store

import "os"

func debugPS() string {
	if v := os.Getenv("GRACE_DEBUG_PAGESIZE"); v != "" {
		return v
	}
	return "16384"
}
