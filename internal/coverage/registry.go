package coverage

import (
	"fmt"
	"io"
	"log/slog"
	"slices"
	"sort"
	"sync"
	"time"

	"go.yaml.in/yaml/v3"
)

// Env is what a connector's factory may use besides its own configuration.
type Env struct {
	Dir    string           // the config file's folder: relative paths are read from here
	Logger *slog.Logger     // diagnostics; never given a secret
	Now    func() time.Time // the clock
	Stderr io.Writer        // warnings meant for the person running the command
	// Window is the config's window, set by Load: a source whose API has
	// no online state calls a device healthy when it was seen within it.
	Window time.Duration
}

// Fresh reports whether lastSeen is within the window before readAt (the
// health of sources whose API gives only a last check-in time).
func (e Env) Fresh(lastSeen, readAt time.Time) bool {
	w := e.Window
	if w <= 0 {
		w = DefaultWindow
	}
	return !lastSeen.IsZero() && readAt.Sub(lastSeen) <= w
}

// Factory builds a source from its YAML mapping in the coverage config.
// It decodes node with DecodeStrict into its own config type, which embeds
// Conn inline, and checks the values it needs.
type Factory func(node *yaml.Node, env Env) (Source, error)

var (
	regMu     sync.RWMutex
	factories = map[string]Factory{}
)

// Register makes a source kind available; connectors call it from init.
func Register(kind string, f Factory) {
	regMu.Lock()
	defer regMu.Unlock()
	if _, dup := factories[kind]; dup {
		panic("coverage: source kind registered twice: " + kind)
	}
	factories[kind] = f
}

// Kinds lists the registered source kinds, sorted.
func Kinds() []string {
	regMu.RLock()
	defer regMu.RUnlock()
	out := make([]string, 0, len(factories))
	for k := range factories {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func factory(kind string) (Factory, error) {
	regMu.RLock()
	defer regMu.RUnlock()
	f, ok := factories[kind]
	if !ok {
		return nil, fmt.Errorf("unknown source kind %q; muster knows %v", kind, slices.Sorted(func(yield func(string) bool) {
			for k := range factories {
				if !yield(k) {
					return
				}
			}
		}))
	}
	return f, nil
}
