package dist_test

import (
	"context"
	"fmt"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"grace/engine/dist"
	"grace/engine/intent"
)

func freePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// A three-node JetStream cluster on loopback with the task stream on three
// replicas: the server leading the stream is shut down mid-run and work
// continues on the other two, with every task completed once.
func TestThreeNodeClusterSurvivesAServerLoss(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a three-node cluster")
	}
	var routes []string
	var clusterPorts [3]int
	for i := range 3 {
		clusterPorts[i] = freePort(t)
		routes = append(routes, fmt.Sprintf("nats-route://127.0.0.1:%d", clusterPorts[i]))
	}
	// The three start together: each waits for the others to form the
	// cluster before it reports ready.
	servers := map[string]*dist.Server{}
	var urls []string
	var mu sync.Mutex
	var wg sync.WaitGroup
	for i := range 3 {
		name := fmt.Sprintf("n%d", i+1)
		dir := t.TempDir()
		wg.Go(func() {
			srv, err := dist.StartServer(dist.ServerOptions{
				Name: name, Listen: "127.0.0.1:0", StoreDir: dir,
				Cluster: fmt.Sprintf("127.0.0.1:%d", clusterPorts[i]), ClusterName: "grace-test", Routes: routes,
			})
			if err != nil {
				t.Error(err)
				return
			}
			mu.Lock()
			defer mu.Unlock()
			servers[name] = srv
			urls = append(urls, srv.ClientURL())
		})
	}
	wg.Wait()
	for _, srv := range servers {
		t.Cleanup(srv.Shutdown)
	}
	if t.Failed() {
		t.FailNow()
	}
	cfg := testConfig()
	cfg.Backend.NATS.Replicas = 3
	all := strings.Join(urls, ",")
	// The cluster elects its JetStream meta leader first: wait until a
	// replicated stream can be made.
	probe := connect(t, all)
	pjs, err := jetstream.New(probe)
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, 30*time.Second, "the JetStream cluster to accept a three-replica stream", func() bool {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		_, err := dist.EnsureStream(ctx, pjs, dist.StreamOptions{AckWait: cfg.Backend.NATS.AckWait, MaxDeliver: 5, Replicas: 3})
		return err == nil
	})
	b := startControlPlane(t, all, cfg)
	reg := registry(t, cfg)
	startWorker(t, all, "w1", reg, cfg)
	startWorker(t, all, "w2", reg, cfg)
	first := b.submitN(t, "query_knowledge", 10)
	waitFor(t, 20*time.Second, "the first tasks completed", func() bool { return b.allIn(first, intent.StateCompleted) })

	str, err := pjs.Stream(context.Background(), dist.StreamName)
	if err != nil {
		t.Fatal(err)
	}
	leader := str.CachedInfo().Cluster.Leader
	srv, ok := servers[leader]
	if !ok {
		t.Fatalf("stream leader %q is not one of the three servers", leader)
	}
	srv.Shutdown()
	t.Logf("shut down %s, the stream's leader", leader)

	second := b.submitN(t, "query_knowledge", 10)
	waitFor(t, 30*time.Second, "the tasks submitted after the loss completed", func() bool {
		return b.allIn(second, intent.StateCompleted)
	})
	b.store.Flush()
	for _, id := range append(first, second...) {
		if n := b.count(id, "intent_completed"); n != 1 {
			t.Errorf("%s: %d completion records, want 1", id, n)
		}
	}
	info, err := pjs.Stream(context.Background(), dist.StreamName)
	if err != nil {
		t.Fatal(err)
	}
	if nl := info.CachedInfo().Cluster.Leader; nl == leader || nl == "" {
		t.Errorf("stream leader after the loss = %q, want another server", nl)
	}
}
