package config

// Metrics is muster's own section (not a Wazuh setting): the plain-HTTP
// listener serving Prometheus metrics at /metrics and the load balancers'
// /livez and /readyz.
type Metrics struct {
	// Listen is the address, e.g. "127.0.0.1:9155"; empty (the default)
	// serves nothing. --metrics-listen overrides it.
	Listen string `yaml:"listen"`
}
