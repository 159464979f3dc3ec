// Command sshalive tells who keeps an SSH session alive, how often, and why it died.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"
)

func main() { os.Exit(runMain()) }

// runMain runs sshalive on the process's arguments and streams. The first
// Ctrl-C, SIGTERM or SIGHUP (the terminal closed) stops the capture or read
// and reports; the signals are then default again, so a second ends the
// process at once.
func runMain() int {
	// A closed stdout (`| head`) is a write error sshalive handles — the
	// capture stops, -w and --html are written, exit 4 — not a signal that
	// kills it with everything unwritten.
	signal.Ignore(syscall.SIGPIPE)
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM, syscall.SIGHUP)
	defer stop()
	go func() {
		<-ctx.Done()
		stop()
	}()
	return run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
}
