// Command oracle writes Kafka protocol test vectors encoded by franz-go's kmsg
// package, an independent implementation of the wire format. The C++ checker
// (src/protocol/tests/oracle_check.cpp) decodes each vector with Carelog's
// generated codec, re-encodes it and requires identical bytes.
//
// Message structs are filled by reflection with seeded random values, so a
// given -seed always produces the same file.
//
// Vector file format (all integers big-endian), repeated until EOF:
//
//	int16  api_key
//	int16  version
//	int8   is_request (1 = request body, 0 = response body)
//	int32  length
//	[length]byte message body (no request/response header)
package main

import (
	"bufio"
	"encoding/binary"
	"flag"
	"fmt"
	"math/rand"
	"os"
	"sort"
	"strconv"
	"strings"

	"github.com/twmb/franz-go/pkg/kmsg"
)

// versionRange is an inclusive range of versions Carelog supports for a key.
type versionRange struct{ min, max int16 }

// parseVersions parses "key:min-max,key:min-max,...".
func parseVersions(s string) (map[int16]versionRange, error) {
	out := make(map[int16]versionRange)
	for _, item := range strings.Split(s, ",") {
		item = strings.TrimSpace(item)
		if item == "" {
			continue
		}
		keyStr, rng, ok := strings.Cut(item, ":")
		if !ok {
			return nil, fmt.Errorf("bad entry %q, want key:min-max", item)
		}
		minStr, maxStr, ok := strings.Cut(rng, "-")
		if !ok {
			maxStr = minStr
		}
		key, err1 := strconv.ParseInt(keyStr, 10, 16)
		lo, err2 := strconv.ParseInt(minStr, 10, 16)
		hi, err3 := strconv.ParseInt(maxStr, 10, 16)
		if err1 != nil || err2 != nil || err3 != nil || lo > hi {
			return nil, fmt.Errorf("bad entry %q", item)
		}
		out[int16(key)] = versionRange{int16(lo), int16(hi)}
	}
	return out, nil
}

func main() {
	out := flag.String("out", "vectors.bin", "output vector file")
	seed := flag.Int64("seed", 1, "random seed")
	perVersion := flag.Int("n", 20, "vectors per (api, version, direction)")
	versions := flag.String("versions", "",
		"supported versions, key:min-max,...; empty means every version kmsg knows")
	flag.Parse()

	var filter map[int16]versionRange
	if *versions != "" {
		var err error
		if filter, err = parseVersions(*versions); err != nil {
			fmt.Fprintln(os.Stderr, "oracle:", err)
			os.Exit(2)
		}
	}

	f, err := os.Create(*out)
	if err != nil {
		fmt.Fprintln(os.Stderr, "oracle:", err)
		os.Exit(1)
	}
	w := bufio.NewWriter(f)
	g := &gen{rng: rand.New(rand.NewSource(*seed))}

	total := 0
	var skipped []string
	for key := int16(0); key < 1000; key++ {
		req := kmsg.RequestForKey(key)
		if req == nil {
			continue
		}
		name := kmsg.NameForKey(key)
		rng, supported := filter[key]
		if filter == nil {
			rng, supported = versionRange{0, req.MaxVersion()}, true
		}
		if !supported {
			skipped = append(skipped, fmt.Sprintf("%s(%d) v0-%d", name, key, req.MaxVersion()))
			continue
		}
		hi := rng.max
		if hi > req.MaxVersion() {
			fmt.Printf("note: %s(%d) v%d-%d beyond kmsg max v%d\n", name, key,
				req.MaxVersion()+1, rng.max, req.MaxVersion())
			hi = req.MaxVersion()
		}
		var skippedV []string
		if rng.min > 0 {
			skippedV = append(skippedV, fmt.Sprintf("v0-%d", rng.min-1))
		}
		if hi < req.MaxVersion() {
			skippedV = append(skippedV, fmt.Sprintf("v%d-%d", hi+1, req.MaxVersion()))
		}
		if len(skippedV) > 0 {
			skipped = append(skipped, fmt.Sprintf("%s(%d) %s", name, key, strings.Join(skippedV, ",")))
		}
		count := 0
		for v := rng.min; v <= hi; v++ {
			for i := 0; i < *perVersion; i++ {
				// The first vector of each kind is all defaults: it covers
				// empty arrays, null fields and absent tags.
				random := i > 0
				r := kmsg.RequestForKey(key)
				g.fillMessage(r, random)
				r.SetVersion(v)
				writeVector(w, key, v, true, r.AppendTo(nil))
				resp := r.ResponseKind()
				g.fillMessage(resp, random)
				resp.SetVersion(v)
				writeVector(w, key, v, false, resp.AppendTo(nil))
				count += 2
			}
		}
		fmt.Printf("%s(%d) v%d-%d: %d vectors\n", name, key, rng.min, hi, count)
		total += count
	}
	if err := w.Flush(); err != nil {
		fmt.Fprintln(os.Stderr, "oracle:", err)
		os.Exit(1)
	}
	if err := f.Close(); err != nil {
		fmt.Fprintln(os.Stderr, "oracle:", err)
		os.Exit(1)
	}
	sort.Strings(skipped)
	for _, s := range skipped {
		fmt.Printf("skipped (kmsg knows, Carelog does not support): %s\n", s)
	}
	fmt.Printf("wrote %d vectors to %s\n", total, *out)
}

func writeVector(w *bufio.Writer, key, version int16, isRequest bool, body []byte) {
	var hdr [9]byte
	binary.BigEndian.PutUint16(hdr[0:], uint16(key))
	binary.BigEndian.PutUint16(hdr[2:], uint16(version))
	if isRequest {
		hdr[4] = 1
	}
	binary.BigEndian.PutUint32(hdr[5:], uint32(len(body)))
	w.Write(hdr[:])
	w.Write(body)
}
