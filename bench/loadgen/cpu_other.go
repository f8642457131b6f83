//go:build !unix

package loadgen

// clientCPU is not measured on this platform.
func clientCPU() float64 { return 0 }
