// Command schemacheck validates YAML files against a JSON schema:
//
//	schemacheck SCHEMA.json FILE.yml...
//
// It exits 1 if any file does not validate.
package main

import (
	"encoding/json"
	"fmt"
	"os"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"gopkg.in/yaml.v3"
)

func main() {
	if len(os.Args) < 3 {
		fmt.Fprintln(os.Stderr, "usage: schemacheck SCHEMA.json FILE.yml...")
		os.Exit(2)
	}
	c := jsonschema.NewCompiler()
	sch, err := c.Compile(os.Args[1])
	if err != nil {
		fmt.Fprintln(os.Stderr, "schemacheck:", err)
		os.Exit(2)
	}
	failed := false
	for _, path := range os.Args[2:] {
		if err := check(sch, path); err != nil {
			failed = true
			fmt.Printf("%s: %v\n", path, err)
			continue
		}
		fmt.Printf("%s: valid\n", path)
	}
	if failed {
		os.Exit(1)
	}
}

func check(sch *jsonschema.Schema, path string) error {
	data, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	var doc any
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return err
	}
	// Round-trip through JSON so that the document has JSON's types only.
	js, err := json.Marshal(doc)
	if err != nil {
		return err
	}
	inst, err := jsonschema.UnmarshalJSON(bytesReader(js))
	if err != nil {
		return err
	}
	return sch.Validate(inst)
}
