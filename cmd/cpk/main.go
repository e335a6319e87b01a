// Command cpk is the Cloudron packaging kit. main wires the process's
// streams and signals to the command tree and exits with its code.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"cpk/internal/cli"
)

func main() {
	cli.ServeHelperIfAsked()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := cli.Main(ctx, cli.System(), os.Args[1:])
	stop()
	os.Exit(code)
}
