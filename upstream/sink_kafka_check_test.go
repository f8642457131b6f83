package upstream

import (
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// TestKafkaTopicCheckTransientError: a broker answering the start's
// metadata request with a retriable topic error (a leader being elected,
// a broker restarting beside the gateway) does not say the topic is
// missing or wrong: the gateway starts and its records wait in the spool,
// as for brokers that cannot be reached. Only the first metadata request
// is answered so; the client's own later ones are not.
func TestKafkaTopicCheckTransientError(t *testing.T) {
	c, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.SeedTopics(3, kafkaTopic))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	for _, code := range []int16{kerr.LeaderNotAvailable.Code, kerr.UnknownServerError.Code} {
		first := true
		c.ControlKey(int16(kmsg.Metadata), func(kreq kmsg.Request) (kmsg.Response, error, bool) {
			c.KeepControl()
			req := kreq.(*kmsg.MetadataRequest)
			if !first || len(req.Topics) != 1 {
				return nil, nil, false
			}
			first = false
			resp := req.ResponseKind().(*kmsg.MetadataResponse)
			rt := kmsg.NewMetadataResponseTopic()
			rt.Topic = kmsg.StringPtr(kafkaTopic)
			rt.ErrorCode = code
			resp.Topics = append(resp.Topics, rt)
			return resp, nil, true
		})
		s, err := NewKafkaSink(KafkaOptions{Brokers: c.ListenAddrs(), Topic: kafkaTopic, CheckTopic: true, CheckTimeout: 2 * time.Second})
		if code == kerr.UnknownServerError.Code {
			// Not retriable: still a reason not to start, and said so.
			if err == nil {
				s.Close()
				t.Fatalf("%v: NewKafkaSink succeeded", kerr.ErrorForCode(code))
			}
			continue
		}
		if err != nil {
			t.Fatalf("%v at start refused the destination: %v", kerr.ErrorForCode(code), err)
		}
		s.Close()
	}
}
