package engine

// Eventually lets the external tests (package engine_test) poll as the
// internal ones do.
var Eventually = eventually
