package main

import (
	"strconv"
	"time"

	"github.com/beacongate/beacongate/config"
)

// configDuration is a flag that stands for a config key holding a
// duration: it takes what the key takes (config.ParseDuration: Go
// durations, or whole days such as 395d, never negative), and prints a
// whole number of days as days, as the config writes them, not 9480h0m0s.
// Every duration flag of the commands is one (consent -max-age, serve
// -drain-delay and -shutdown-timeout, healthcheck -timeout), so that all
// are written alike; its help names it with a backquoted `duration`.
type configDuration time.Duration

func (d *configDuration) Set(s string) error {
	v, err := config.ParseDuration(s)
	if err != nil {
		return err
	}
	*d = configDuration(v)
	return nil
}

func (d *configDuration) String() string {
	const day = 24 * time.Hour
	if t := time.Duration(*d); t > 0 && t%day == 0 {
		return strconv.FormatInt(int64(t/day), 10) + "d"
	}
	return config.Duration(*d).String()
}
