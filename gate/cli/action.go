package cli

import (
	"context"
	"os"
	"strings"

	"github.com/perfgate/perfgate/gate/config"
	"github.com/perfgate/perfgate/gate/plan"
	"github.com/perfgate/perfgate/gate/report"
)

// actionInputs maps the inputs of action.yml to run's flags, in the order they are passed.
var actionInputs = []struct{ input, flag string }{
	{"config", "--config"},
	{"target", "--target"},
	{"users", "--users"},
	{"spawn-rate", "--spawn-rate"},
	{"duration", "--duration"},
	{"think", "--think"},
	{"profile", "--profile"},
	{"junit", "--junit"},
	{"json", "--json"},
	{"html", "--html"},
}

// action is the entry point of the Docker container action: it reads the step's inputs
// (INPUT_* variables), masks every secret-looking variable before printing anything,
// and runs the gate as `perfgate run` would.
func (c *Command) action(ctx context.Context, args []string) int {
	fs := c.newFlagSet("action", "action",
		"Runs the gate as a GitHub Actions step: reads the inputs of action.yml from INPUT_*\n"+
			"variables and behaves as perfgate run with the matching flags. Used by action.yml.")
	if code, done := c.parse(fs, args); done {
		return code
	}
	if !report.GitHubEnabled(c.getenv) {
		c.errorf("action runs inside GitHub Actions (GITHUB_ACTIONS=true); elsewhere use perfgate run")
		return ExitUsage
	}
	input := func(name string) string { return strings.TrimSpace(c.getenv("INPUT_" + strings.ToUpper(name))) }
	// Before any output: secret-looking variables, and a password in the target, however
	// it came (a URL of the step's inputs is not itself a masked secret).
	gh := report.NewGitHub(c.getenv, c.Stdout)
	secrets := c.secretEnvValues()
	if token := input("github-token"); token != "" {
		secrets, c.githubToken = append(secrets, token), token
	}
	for _, u := range append([]string{input("target")}, strings.Fields(input("args"))...) {
		if pw := plan.URLPassword(u); pw != "" {
			secrets = append(secrets, pw)
		}
	}
	if err := gh.Mask(secrets...); err != nil {
		c.errorf("cannot mask secrets in the log: %v", err)
		return ExitInvalid
	}
	c.secrets = append(c.secrets, secrets...)

	var runArgs []string
	for _, in := range actionInputs {
		if v := input(in.input); v != "" {
			runArgs = append(runArgs, in.flag, v)
		}
	}
	for _, t := range strings.FieldsFunc(input("thresholds"), func(r rune) bool { return r == '\n' || r == ',' }) {
		if t = strings.TrimSpace(t); t != "" {
			runArgs = append(runArgs, "--thresholds", t)
		}
	}
	if c.githubToken != "" {
		runArgs = append(runArgs, "--pr-comment")
	}
	runArgs = append(runArgs, strings.Fields(input("args"))...)
	if dir := input("working-directory"); dir != "" {
		if err := os.Chdir(dir); err != nil {
			c.errorf("working-directory: %v", err)
			return ExitUsage
		}
	}
	shown := make([]string, len(runArgs))
	for i, arg := range runArgs {
		shown[i] = plan.RedactURL(arg)
	}
	c.say(c.Stdout, "perfgate run %s\n", strings.Join(shown, " "))
	return c.run(ctx, runArgs)
}

// secretEnvValues lists the values of secret-looking environment variables.
func (c *Command) secretEnvValues() []string {
	if c.Environ == nil {
		return nil
	}
	var out []string
	for _, kv := range c.Environ() {
		name, val, ok := strings.Cut(kv, "=")
		if !ok || strings.HasPrefix(name, "INPUT_") || !config.IsSecretName(name) {
			continue
		}
		// Masking a word such as "true" would blank it out of every log line.
		if len(val) < 4 || val == "true" || val == "false" {
			continue
		}
		out = append(out, val)
	}
	return out
}
