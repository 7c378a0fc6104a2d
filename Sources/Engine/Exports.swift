// Configs are read through Engine's API (`Config`, `ConfigSection`, `ConfigNode`): re-exported so
// the CLI and tests that import Engine see them.
@_exported import MagpieConfig
