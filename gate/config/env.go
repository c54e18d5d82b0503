package config

import (
	"regexp"
	"strings"

	"gopkg.in/yaml.v3"
)

// Env looks a variable up, like os.LookupEnv. It is injected so that tests are hermetic.
type Env func(name string) (string, bool)

// secretName matches environment variables whose values are treated as secrets.
var secretName = regexp.MustCompile(`(?i)pass|secret|token|key|auth|cookie|credential|session`)

// IsSecretName reports whether an environment variable's value is treated as a secret.
func IsSecretName(name string) bool { return secretName.MatchString(name) }

// expander replaces ${VAR} and ${VAR:-default} in scalar values; $${ is a literal ${.
type expander struct {
	env     Env
	secrets []string
}

// expandTree expands every scalar value below n (mapping keys are left alone). A plain
// scalar that changed is re-resolved, so `users: ${USERS:-200}` is a number; a quoted one
// stays a string, so `password: "${PW}"` is a string whatever PW holds.
func (x *expander) expandTree(n *yaml.Node) error {
	switch n.Kind {
	case yaml.DocumentNode, yaml.SequenceNode:
		for _, c := range n.Content {
			if err := x.expandTree(c); err != nil {
				return err
			}
		}
	case yaml.MappingNode:
		for i := 1; i < len(n.Content); i += 2 {
			if err := x.expandTree(n.Content[i]); err != nil {
				return err
			}
		}
	case yaml.ScalarNode:
		if !strings.Contains(n.Value, "$") {
			return nil
		}
		v, err := x.expand(n.Value)
		if err != nil {
			return &Error{Pos: posOf(n), Msg: err.Error()}
		}
		if v != n.Value {
			n.Value = v
			if n.Style == 0 {
				n.Tag = ""
			}
		}
	}
	return nil
}

type envError string

func (e envError) Error() string { return string(e) }

func (x *expander) expand(s string) (string, error) {
	var b strings.Builder
	for {
		i := strings.Index(s, "$")
		if i < 0 {
			b.WriteString(s)
			return b.String(), nil
		}
		b.WriteString(s[:i])
		s = s[i:]
		switch {
		case strings.HasPrefix(s, "$${"):
			b.WriteString("${")
			s = s[3:]
		case strings.HasPrefix(s, "${"):
			end := strings.IndexByte(s, '}')
			if end < 0 {
				return "", envError("unclosed ${ in value: write $${ for a literal ${")
			}
			ref := s[2:end]
			s = s[end+1:]
			name, def, hasDef := strings.Cut(ref, ":-")
			if !validVarName(name) {
				return "", envError("invalid environment variable name " + quote(name) + " in ${...}")
			}
			val, ok := x.env(name)
			if !ok || (hasDef && val == "") {
				if !hasDef {
					return "", envError("environment variable " + name + " is not set (give a default with ${" + name + ":-value})")
				}
				val = def
			}
			if val != "" && secretName.MatchString(name) {
				x.secrets = append(x.secrets, val)
			}
			b.WriteString(val)
		default:
			b.WriteByte('$')
			s = s[1:]
		}
	}
}

func validVarName(s string) bool {
	if s == "" {
		return false
	}
	for i, r := range s {
		if r == '_' || (r >= 'A' && r <= 'Z') || (r >= 'a' && r <= 'z') || (i > 0 && r >= '0' && r <= '9') {
			continue
		}
		return false
	}
	return true
}

func quote(s string) string { return `"` + s + `"` }
