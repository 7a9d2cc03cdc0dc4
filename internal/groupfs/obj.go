// Package groupfs keeps agent groups on disk the way a Wazuh manager does,
// under <data-dir>/etc/shared: one directory per group holding agent.conf and
// the merged.mg file remoted sends to agents, plus the global ar.conf. It
// also reads group files for the API: agent.conf to JSON (with the
// validation PUT /groups/{id}/configuration applies), rootcheck databases,
// ar.conf and merged.mg. Every path it opens is a checked name inside the
// shared directory: no separators, no "..", no symbolic links.
//
// With a store shared by several nodes the directory is each node's cache
// of the groups the store holds (core's group sync, see core/group_sync.go):
// sync.go lists the entries the store keeps and applies its content here.
package groupfs

import (
	"bytes"
	"encoding/json"
)

// Obj is a JSON object that keeps its keys in insertion order, as the
// Python dicts Wazuh builds do.
type Obj []KV

// KV is one key of an Obj.
type KV struct {
	Key   string
	Value any
}

// Get returns the value of key.
func (o Obj) Get(key string) (any, bool) {
	for _, kv := range o {
		if kv.Key == key {
			return kv.Value, true
		}
	}
	return nil, false
}

// Set replaces the value of key in place, or appends the key.
func (o *Obj) Set(key string, v any) {
	for i := range *o {
		if (*o)[i].Key == key {
			(*o)[i].Value = v
			return
		}
	}
	*o = append(*o, KV{key, v})
}

// MarshalJSON implements json.Marshaler with the keys in order.
func (o Obj) MarshalJSON() ([]byte, error) {
	var buf bytes.Buffer
	buf.WriteByte('{')
	for i, kv := range o {
		if i > 0 {
			buf.WriteByte(',')
		}
		k, _ := json.Marshal(kv.Key)
		buf.Write(k)
		buf.WriteByte(':')
		var vb bytes.Buffer
		enc := json.NewEncoder(&vb)
		enc.SetEscapeHTML(false)
		if err := enc.Encode(kv.Value); err != nil {
			return nil, err
		}
		buf.Write(bytes.TrimRight(vb.Bytes(), "\n"))
	}
	buf.WriteByte('}')
	return buf.Bytes(), nil
}
