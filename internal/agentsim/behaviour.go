package agentsim

import (
	"context"
	"fmt"
	"strings"
	"time"
)

// BehaviourKind is what a fleet agent does over the simulation.
type BehaviourKind int

// The behaviours of a fleet file's `behaviour` field.
const (
	Active       BehaviourKind = iota // "active": connects and keeps alive until the end
	Silent                            // "silent after D": as active, then drops off after D
	NeverConnect                      // "never connects": has a key, never connects
	Flapping                          // "flapping [UP[/DOWN]]": connected UP, stopped DOWN, again and again
)

// Default flapping periods: a minute each way, short enough to be seen in
// a demo and longer than a keepalive.
const (
	defaultFlapUp   = time.Minute
	defaultFlapDown = time.Minute
)

// Behaviour is a parsed `behaviour` value.
type Behaviour struct {
	Kind  BehaviourKind
	After time.Duration // Silent: how long the agent runs before going silent
	Up    time.Duration // Flapping: how long it stays connected each time
	Down  time.Duration // Flapping: how long it stays away each time
}

// String gives the behaviour back in the fleet file's syntax.
func (b Behaviour) String() string {
	switch b.Kind {
	case Silent:
		return "silent after " + b.After.String()
	case NeverConnect:
		return "never connects"
	case Flapping:
		return "flapping " + b.Up.String() + "/" + b.Down.String()
	}
	return "active"
}

// ParseBehaviour reads "active", "silent after 30s", "never connects",
// "flapping", "flapping 45s" (45 s each way) or "flapping 45s/2m"; case and
// repeated spaces do not matter.
func ParseBehaviour(s string) (Behaviour, error) {
	f := strings.Fields(strings.ToLower(s))
	bad := func(why string) (Behaviour, error) {
		return Behaviour{}, fmt.Errorf("behaviour %q: %s (want active, silent after <duration>, never connects, "+
			"flapping or flapping <up>/<down>)", s, why)
	}
	dur := func(v string) (time.Duration, error) {
		d, err := time.ParseDuration(v)
		if err != nil {
			return 0, fmt.Errorf("%q is not a duration such as 30s or 2m", v)
		}
		if d <= 0 {
			return 0, fmt.Errorf("%q must be positive", v)
		}
		return d, nil
	}
	switch {
	case len(f) == 1 && f[0] == "active":
		return Behaviour{Kind: Active}, nil
	case len(f) == 2 && f[0] == "never" && (f[1] == "connects" || f[1] == "connect"):
		return Behaviour{Kind: NeverConnect}, nil
	case len(f) >= 1 && f[0] == "silent":
		if len(f) != 3 || f[1] != "after" {
			return bad("say when: silent after <duration>")
		}
		d, err := dur(f[2])
		if err != nil {
			return bad(err.Error())
		}
		return Behaviour{Kind: Silent, After: d}, nil
	case len(f) >= 1 && f[0] == "flapping":
		b := Behaviour{Kind: Flapping, Up: defaultFlapUp, Down: defaultFlapDown}
		if len(f) == 1 {
			return b, nil
		}
		if len(f) != 2 {
			return bad("one period, flapping <up>/<down>")
		}
		up, down, two := strings.Cut(f[1], "/")
		var err error
		if b.Up, err = dur(up); err != nil {
			return bad(err.Error())
		}
		b.Down = b.Up
		if two {
			if b.Down, err = dur(down); err != nil {
				return bad(err.Error())
			}
		}
		return b, nil
	}
	return bad("unknown behaviour")
}

// Sleeper waits d or until ctx ends (then it returns ctx's error). Tests
// pass one driven by a testclock.Clock; the default uses real timers.
type Sleeper func(ctx context.Context, d time.Duration) error

// realSleep is the default Sleeper.
func realSleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// Play runs the agent with behaviour b until ctx ends: the plan lives here,
// beside the agent, which knows nothing of it. A silent agent is killed (no
// shutdown message, as a host losing power) and stays away; a flapping one
// stops cleanly (its shutdown is sent) and starts again.
func Play(ctx context.Context, a *Agent, b Behaviour, sleep Sleeper) {
	if sleep == nil {
		sleep = realSleep
	}
	switch b.Kind {
	case NeverConnect:
		<-ctx.Done()
	case Silent:
		done := make(chan struct{})
		go func() { defer close(done); a.Run(ctx) }()
		if sleep(ctx, b.After) == nil {
			a.Kill()
		}
		<-done
	case Flapping:
		for ctx.Err() == nil {
			up, stop := context.WithCancel(ctx)
			done := make(chan struct{})
			go func() { defer close(done); a.Run(up) }()
			err := sleep(ctx, b.Up)
			stop()
			<-done
			if err != nil || sleep(ctx, b.Down) != nil {
				return
			}
			a.o.Stats.Reconnects.Add(1)
		}
	default:
		a.Run(ctx)
	}
}
