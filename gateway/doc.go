// Package gateway serves the collection endpoints on fasthttp and turns each
// request into events: GET /p.gif (tracking pixel), POST /b (sendBeacon) and
// POST /ble (retail BLE pings).
//
// The request path does not allocate in the steady state: events, JSON parsers
// and argument parsers come from a pool and are reset and reused. Each parsed
// event is handed to an EventHandler (the anonymizer and then delivery) before
// the request is answered.
//
// Bad input gets a small fixed 4xx answer (the pixel always gets its GIF) and is
// counted by reason in beacongate_gateway_rejected_total; it is never logged.
package gateway
