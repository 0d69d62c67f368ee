package dist

import (
	"errors"
	"fmt"
	"net"
	"strconv"
	"time"

	"github.com/nats-io/nats-server/v2/server"
)

// serverReadyTimeout bounds how long an embedded server may take to accept
// connections.
const serverReadyTimeout = 10 * time.Second

// ServerOptions configure an embedded nats-server with JetStream.
type ServerOptions struct {
	// Name is the server's name, unique within a cluster ("grace" when
	// empty).
	Name string
	// Listen is the client address, host:port; port 0 picks a free one.
	Listen string
	// StoreDir holds JetStream's files; required.
	StoreDir string
	// Cluster, when set, is this server's cluster route address
	// (host:port) and Routes the other members' (nats-route://host:port);
	// ClusterName names the cluster.
	Cluster     string
	ClusterName string
	Routes      []string
}

// Server is an embedded nats-server. Stop it with Shutdown.
type Server struct {
	s *server.Server
}

// StartServer starts a nats-server with JetStream in this process and waits
// until it accepts connections. It fails with the option at fault.
func StartServer(o ServerOptions) (*Server, error) {
	if o.StoreDir == "" {
		return nil, errors.New("start embedded nats-server: a store dir is required")
	}
	host, port, err := splitHostPort(o.Listen)
	if err != nil {
		return nil, fmt.Errorf("start embedded nats-server: listen %q: %w", o.Listen, err)
	}
	if port == 0 {
		port = server.RANDOM_PORT // nats-server reads 0 as its default port
	} else if err := canListen(host, port); err != nil {
		return nil, fmt.Errorf("start embedded nats-server: %w", err)
	}
	if o.Name == "" {
		o.Name = "grace"
	}
	opts := &server.Options{
		ServerName: o.Name, Host: host, Port: port, JetStream: true, StoreDir: o.StoreDir,
		NoSigs: true, NoLog: true, DisableJetStreamBanner: true,
	}
	if o.Cluster != "" {
		ch, cp, err := splitHostPort(o.Cluster)
		if err != nil {
			return nil, fmt.Errorf("start embedded nats-server: cluster %q: %w", o.Cluster, err)
		}
		if cp == 0 {
			cp = server.RANDOM_PORT
		} else if err := canListen(ch, cp); err != nil {
			return nil, fmt.Errorf("start embedded nats-server: cluster: %w", err)
		}
		opts.Cluster = server.ClusterOpts{Name: o.ClusterName, Host: ch, Port: cp}
		for _, r := range o.Routes {
			opts.Routes = append(opts.Routes, server.RoutesFromStr(r)...)
		}
	}
	s, err := server.NewServer(opts)
	if err != nil {
		return nil, fmt.Errorf("start embedded nats-server on %s (store %s): %w", o.Listen, o.StoreDir, err)
	}
	go s.Start()
	if !s.ReadyForConnections(serverReadyTimeout) {
		s.Shutdown()
		return nil, fmt.Errorf("start embedded nats-server on %s: not accepting connections after %v", o.Listen, serverReadyTimeout)
	}
	return &Server{s: s}, nil
}

// ClientURL returns the nats:// URL clients connect to.
func (s *Server) ClientURL() string { return s.s.ClientURL() }

// Shutdown stops the server and waits until it has stopped. It is safe
// to call more than once.
func (s *Server) Shutdown() {
	s.s.Shutdown()
	s.s.WaitForShutdown()
}

// canListen says at once when host:port cannot be listened on (another
// process has it), which nats-server would only show as a server that
// never accepts connections.
func canListen(host string, port int) error {
	ln, err := net.Listen("tcp", net.JoinHostPort(host, strconv.Itoa(port)))
	if err != nil {
		return err
	}
	return ln.Close()
}

func splitHostPort(hp string) (string, int, error) {
	h, p, err := net.SplitHostPort(hp)
	if err != nil {
		return "", 0, err
	}
	n, err := strconv.Atoi(p)
	if err != nil || n < 0 || n > 65535 {
		return "", 0, fmt.Errorf("port %q is not a number in 0..65535", p)
	}
	return h, n, nil
}
