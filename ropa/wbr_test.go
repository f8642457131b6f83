package ropa

import "testing"

// TestWBR: break points go exactly where a long token may wrap by hand,
// short tokens are left whole, and every value stays escaped.
func TestWBR(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"user_agent: reduce", "user_agent: reduce"},
		{"accept_language_19c", "accept_language_19c"},
		{"server.client_ip_header", "server<wbr />.client_<wbr />ip_<wbr />header"},
		{"BEACONGATE_PSEUDONYM_SECRET", "BEACONGATE_<wbr />PSEUDONYM_<wbr />SECRET"},
		{"a__b_c_d_e_f_g_h_i_j_k", "a__<wbr />b_<wbr />c_<wbr />d_<wbr />e_<wbr />f_<wbr />g_<wbr />h_<wbr />i_<wbr />j_<wbr />k"},
		{"https://collect.retarget-partner.example/v1/batches",
			"https://<wbr />collect<wbr />.retarget-partner<wbr />.example/<wbr />v1/<wbr />batches"},
		{"privacy.recipients.warehouse.country", "privacy<wbr />.recipients<wbr />.warehouse<wbr />.country"},
		{"topic web-events on kafka-1.internal.example.com:9093, kafka-2.internal.example.com:9093",
			"topic web-events on kafka-1<wbr />.internal<wbr />.example<wbr />.com:<wbr />9093, kafka-2<wbr />.internal<wbr />.example<wbr />.com:<wbr />9093"},
		{"/run/secrets/retargeting-token", "/run/<wbr />secrets/<wbr />retargeting-token"},
		{"https://x.example/a?b=c&d=<script>", "https://<wbr />x<wbr />.example/<wbr />a<wbr />?b<wbr />=c<wbr />&amp;d<wbr />=&lt;script&gt;"},
		{"a\tb  c", "a\tb  c"},
		{"", ""},
	} {
		if got := string(wbr(c.in)); got != c.want {
			t.Errorf("wbr(%q)\n got %q\nwant %q", c.in, got, c.want)
		}
	}
}
