// Package config reads the user's YAML files, perfgate.yaml and the threshold files under
// thresholds/, into plain data.
//
// It is the first stage of the pipeline (config -> plan -> load -> stats -> verdict ->
// report) and imports none of the others. Decoding is strict: an unknown key, a duplicate
// key or a value of the wrong shape is an *Error that names the file, line and column, so
// the user can jump straight to it. ${VAR} and ${VAR:-default} are expanded from the
// environment in scalar values after parsing, so an expanded value can never change the
// structure of the document (a password holding ": " or "#" stays a password) and
// positions stay those of the file.
//
// What is checked here is syntax and shape: a duration has a unit, a think range is
// ordered, a threshold rule reads "metric op value". Cross references (a threshold on an
// endpoint that no task has, a {{var}} no setup step extracts) are the plan's job.
package config
