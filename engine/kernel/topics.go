package kernel

// The topics of the bus and the control plane. Topics lists them; the
// control plane declares them on the mesh.
const (
	// TopicHeartbeat carries kernel heartbeats (fields kernel,
	// incarnation, seq, mem_mb).
	TopicHeartbeat = "kernel.heartbeat"
	// TopicControl carries commands to the control plane (fields command:
	// stop or restart, target: a kernel).
	TopicControl = "kernel.control"
	// TopicState is where kernels may report their state.
	TopicState = "kernel.state"
	// TopicFailed announces a kernel that failed or went silent (fields
	// kernel, critical, cause, incarnation).
	TopicFailed = "kernel.failed"
	// TopicRecovered announces a kernel back to heartbeating after a
	// restart (fields kernel, incarnation, how).
	TopicRecovered = "kernel.recovered"
	// TopicEscalated announces a recovery that gave up (fields kernel,
	// playbook, attempts).
	TopicEscalated = "kernel.escalated"
	// TopicACL announces bus ACL violations and suspensions (fields
	// sender, topic, event: violation, suspended or reinstated).
	TopicACL = "bus.acl"
)

// Topics are every topic the control plane uses.
var Topics = []string{TopicHeartbeat, TopicControl, TopicState, TopicFailed, TopicRecovered, TopicEscalated, TopicACL}

// senderControlPlane is the Source of the events the control plane itself
// publishes (not through the bus: it is not a kernel).
const senderControlPlane = "control_plane"
