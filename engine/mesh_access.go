package engine

import "grace/engine/mesh"

// Mesh returns the engine's trigger mesh, for a bridge that carries its
// topics to other processes (the nats backend's, package engine/dist).
// Events a bridge offers go through the mesh's own backpressure and drop
// counting like any other.
func (e *Engine) Mesh() *mesh.Mesh { return e.layers.mesh }
