// Command perfgate is a CI pass/fail performance gate. See the README.
package main

import (
	"os"

	"github.com/perfgate/perfgate/gate/cli"
)

func main() { os.Exit(cli.Main(os.Args[1:])) }
