package main

import (
	"encoding/binary"
	"hash/crc32"
	"math"
	"math/rand"
	"reflect"

	"github.com/twmb/franz-go/pkg/kmsg"
)

// gen fills kmsg structs with random values. Not safe for concurrent use.
type gen struct {
	rng *rand.Rand
}

var tagsType = reflect.TypeOf(kmsg.Tags{})

// fillMessage resets msg to kmsg's defaults and, if random, fills every
// exported field. The version is set by the caller afterwards, so fields not
// present in that version are simply not encoded.
func (g *gen) fillMessage(msg interface{}, random bool) {
	if d, ok := msg.(interface{ Default() }); ok {
		d.Default()
	}
	if !random {
		return
	}
	g.fillStruct(reflect.ValueOf(msg).Elem(), 0)
}

func (g *gen) fillStruct(v reflect.Value, depth int) {
	t := v.Type()
	for i := 0; i < v.NumField(); i++ {
		f := v.Field(i)
		sf := t.Field(i)
		if !f.CanSet() || sf.Name == "Version" {
			continue
		}
		if f.Type() == tagsType {
			g.fillTags(f.Addr().Interface().(*kmsg.Tags))
			continue
		}
		if f.Kind() == reflect.Slice && f.Type().Elem().Kind() == reflect.Uint8 &&
			(sf.Name == "Records" || sf.Name == "RecordBatches") {
			if g.rng.Intn(4) != 0 { // sometimes leave null/empty
				f.SetBytes(g.recordBatches())
			}
			continue
		}
		g.fillValue(f, depth)
	}
}

// fillTags adds unknown tagged fields with high tag numbers, so they sort
// after every tag Kafka defines; the codec must keep and rewrite them.
func (g *gen) fillTags(t *kmsg.Tags) {
	if g.rng.Intn(8) != 0 {
		return
	}
	n := 1 + g.rng.Intn(2)
	for i := 0; i < n; i++ {
		t.Set(uint32(1000+g.rng.Intn(100)), g.bytes(8))
	}
}

func (g *gen) fillValue(f reflect.Value, depth int) {
	switch f.Kind() {
	case reflect.Bool:
		f.SetBool(g.rng.Intn(2) == 1)
	case reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		f.SetInt(g.int(f.Type().Bits()))
	case reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		f.SetUint(uint64(g.int(f.Type().Bits())) & (math.MaxUint64 >> (64 - f.Type().Bits())))
	case reflect.Float64:
		f.SetFloat(g.rng.NormFloat64() * 1000)
	case reflect.String:
		f.SetString(g.string())
	case reflect.Array: // uuid
		for i := 0; i < f.Len(); i++ {
			f.Index(i).SetUint(uint64(g.rng.Intn(256)))
		}
	case reflect.Ptr: // nullable string
		if g.rng.Intn(3) == 0 {
			f.Set(reflect.Zero(f.Type()))
			return
		}
		p := reflect.New(f.Type().Elem())
		if d, ok := p.Interface().(interface{ Default() }); ok {
			d.Default()
		}
		if p.Elem().Kind() == reflect.Struct {
			g.fillStruct(p.Elem(), depth+1)
		} else {
			g.fillValue(p.Elem(), depth)
		}
		f.Set(p)
	case reflect.Slice:
		if f.Type().Elem().Kind() == reflect.Uint8 { // bytes
			if g.rng.Intn(5) == 0 {
				f.Set(reflect.Zero(f.Type())) // nil: null where nullable
			} else {
				f.SetBytes(g.bytes(16))
			}
			return
		}
		if g.rng.Intn(5) == 0 {
			f.Set(reflect.Zero(f.Type())) // nil: null where nullable
			return
		}
		maxLen := 4
		if depth >= 2 {
			maxLen = 2
		}
		n := g.rng.Intn(maxLen + 1)
		s := reflect.MakeSlice(f.Type(), n, n)
		for i := 0; i < n; i++ {
			e := s.Index(i)
			if e.Kind() == reflect.Struct {
				if d, ok := e.Addr().Interface().(interface{ Default() }); ok {
					d.Default()
				}
				g.fillStruct(e, depth+1)
			} else {
				g.fillValue(e, depth+1)
			}
		}
		f.Set(s)
	case reflect.Struct:
		if g.rng.Intn(3) == 0 {
			return // keep defaults: exercises "tagged struct absent"
		}
		g.fillStruct(f, depth+1)
	}
}

// int returns a value that fits in bits, biased towards small numbers and
// the edges of the range.
func (g *gen) int(bits int) int64 {
	switch g.rng.Intn(6) {
	case 0:
		return 0
	case 1:
		return -1
	case 2:
		return int64(g.rng.Intn(100))
	case 3:
		return -(int64(1) << (bits - 1)) // minimum
	case 4:
		return int64(1)<<(bits-1) - 1 // maximum
	default:
		u := g.rng.Uint64() >> (64 - bits)
		return int64(u<<(64-bits)) >> (64 - bits) // sign-extend
	}
}

func (g *gen) string() string {
	const alphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-"
	n := g.rng.Intn(12)
	b := make([]byte, n)
	for i := range b {
		b[i] = alphabet[g.rng.Intn(len(alphabet))]
	}
	return string(b)
}

func (g *gen) bytes(max int) []byte {
	b := make([]byte, g.rng.Intn(max+1))
	g.rng.Read(b)
	return b
}

// recordBatches returns one or two well-formed magic-2 record batches
// (correct lengths and CRC32C), as a broker would store them.
func (g *gen) recordBatches() []byte {
	var out []byte
	for n := 1 + g.rng.Intn(2); n > 0; n-- {
		out = g.appendBatch(out)
	}
	return out
}

func (g *gen) appendBatch(dst []byte) []byte {
	nrec := g.rng.Intn(4)
	var recs []byte
	for i := 0; i < nrec; i++ {
		var body []byte
		body = append(body, 0)                     // record attributes
		body = binary.AppendVarint(body, int64(i)) // timestamp delta
		body = binary.AppendVarint(body, int64(i)) // offset delta
		if g.rng.Intn(3) == 0 {
			body = binary.AppendVarint(body, -1) // null key
		} else {
			k := g.bytes(8)
			body = binary.AppendVarint(body, int64(len(k)))
			body = append(body, k...)
		}
		val := g.bytes(24)
		body = binary.AppendVarint(body, int64(len(val)))
		body = append(body, val...)
		body = binary.AppendVarint(body, 0) // no headers
		recs = binary.AppendVarint(recs, int64(len(body)))
		recs = append(recs, body...)
	}
	// Everything after the CRC field, which the CRC covers.
	var tail []byte
	tail = binary.BigEndian.AppendUint16(tail, 0) // attributes
	lastDelta := int32(nrec - 1)
	if nrec == 0 {
		lastDelta = 0
	}
	ts := int64(1700000000000 + g.rng.Intn(1000000))
	tail = binary.BigEndian.AppendUint32(tail, uint32(lastDelta))
	tail = binary.BigEndian.AppendUint64(tail, uint64(ts))
	tail = binary.BigEndian.AppendUint64(tail, uint64(ts+int64(nrec)))
	tail = binary.BigEndian.AppendUint64(tail, math.MaxUint64) // producer id -1
	tail = binary.BigEndian.AppendUint16(tail, math.MaxUint16) // epoch -1
	tail = binary.BigEndian.AppendUint32(tail, math.MaxUint32) // sequence -1
	tail = binary.BigEndian.AppendUint32(tail, uint32(nrec))
	tail = append(tail, recs...)

	crc := crc32.Checksum(tail, crc32.MakeTable(crc32.Castagnoli))
	dst = binary.BigEndian.AppendUint64(dst, uint64(g.rng.Intn(1000))) // base offset
	// batch length counts from partition leader epoch to the end.
	dst = binary.BigEndian.AppendUint32(dst, uint32(4+1+4+len(tail)))
	dst = binary.BigEndian.AppendUint32(dst, uint32(g.rng.Intn(10))) // leader epoch
	dst = append(dst, 2)                                             // magic
	dst = binary.BigEndian.AppendUint32(dst, crc)
	return append(dst, tail...)
}
