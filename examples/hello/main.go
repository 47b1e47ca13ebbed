// Command hello is the KoAddins example: it greets, then prints a file that ko ships in kodata/.
package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

func main() {
	showVersion := flag.Bool("version", false, "print the version and exit")
	flag.Parse()
	if *showVersion {
		fmt.Println(version)
		return
	}

	fmt.Println("Hello from a ko-built image!")
	dir := os.Getenv("KO_DATA_PATH")
	if dir == "" {
		dir = "kodata"
	}
	content, err := os.ReadFile(filepath.Join(dir, "greeting.txt"))
	if err != nil {
		fmt.Fprintln(os.Stderr, "reading kodata:", err)
		os.Exit(1)
	}
	fmt.Print(string(content))
}
