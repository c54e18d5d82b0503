// Command dockerlint runs BuildKit's Dockerfile checks (the code behind
// `docker build --check`) without a Docker engine: base images are resolved offline to a
// minimal linux config, so only the Dockerfile itself is judged. It exits 1 on any
// warning or error.
package main

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"os"

	"github.com/moby/buildkit/client/llb"
	"github.com/moby/buildkit/client/llb/sourceresolver"
	"github.com/moby/buildkit/frontend/dockerfile/dockerfile2llb"
	"github.com/moby/buildkit/frontend/dockerui"
	digest "github.com/opencontainers/go-digest"
)

// offline answers every base image with the same small config.
type offline struct{}

func (offline) ResolveImageConfig(_ context.Context, ref string, _ sourceresolver.Opt) (string, digest.Digest, []byte, error) {
	cfg, _ := json.Marshal(map[string]any{
		"architecture": "amd64",
		"os":           "linux",
		"config":       map[string]any{"Env": []string{"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"}},
		"rootfs":       map[string]any{"type": "layers", "diff_ids": []string{}},
	})
	return ref, digest.FromBytes(cfg), cfg, nil
}

func main() {
	path := "Dockerfile"
	if len(os.Args) > 1 {
		path = os.Args[1]
	}
	dt, err := os.ReadFile(path)
	if err != nil {
		fmt.Fprintln(os.Stderr, "dockerlint:", err)
		os.Exit(2)
	}
	ctx := context.Background()
	src := llb.Local("dockerfile")
	sm := llb.NewSourceMap(&src, path, "Dockerfile", dt)
	if sm.Definition, err = src.Marshal(ctx); err != nil {
		fmt.Fprintln(os.Stderr, "dockerlint:", err)
		os.Exit(2)
	}
	res, err := dockerfile2llb.DockerfileLint(ctx, dt, dockerfile2llb.ConvertOpt{
		Config:       dockerui.Config{},
		MetaResolver: offline{},
		SourceMap:    sm,
	})
	if err != nil {
		fmt.Fprintln(os.Stderr, "dockerlint:", err)
		os.Exit(2)
	}
	bad := false
	for _, w := range res.Warnings {
		bad = true
		line := 0
		if w.Location != nil && len(w.Location.Ranges) > 0 {
			line = int(w.Location.Ranges[0].Start.Line)
		}
		fmt.Printf("%s:%d: %s: %s (%s)\n", path, line, w.RuleName, w.Detail, w.URL)
	}
	if res.Error != nil {
		bad = true
		fmt.Printf("%s: %s\n", path, res.Error.Message)
	}
	if bad {
		os.Exit(1)
	}
	fmt.Printf("%s: BuildKit checks passed (%x)\n", path, sha256.Sum256(dt))
}
