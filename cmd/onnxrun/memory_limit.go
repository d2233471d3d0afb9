package main

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"unicode"
)

// byteSize is a flag holding a number of bytes, written as Go's GOMEMLIMIT writes them (512MiB, 2GiB) or
// with decimal units (2GB = 2,000,000,000 bytes), or as a plain number of bytes. 0 means unset.
type byteSize int64

// byteUnits are the suffixes parseByteSize accepts, case-insensitively: binary (KiB...) and decimal
// (KB...) units, and B.
var byteUnits = map[string]float64{
	"": 1, "b": 1,
	"kb": 1e3, "mb": 1e6, "gb": 1e9, "tb": 1e12,
	"kib": 1 << 10, "mib": 1 << 20, "gib": 1 << 30, "tib": 1 << 40,
}

// parseByteSize reads "512MiB", "2GB", "1.5 GiB" or "1048576".
func parseByteSize(s string) (int64, error) {
	t := strings.TrimSpace(s)
	split := strings.IndexFunc(t, func(r rune) bool { return unicode.IsLetter(r) || unicode.IsSpace(r) })
	if split < 0 {
		split = len(t)
	}
	number, unit := t[:split], strings.ToLower(strings.TrimSpace(t[split:]))
	scale, ok := byteUnits[unit]
	if !ok {
		return 0, fmt.Errorf("size %q: unknown unit %q (want B, KiB, MiB, GiB, TiB, or KB, MB, GB, TB)", s, strings.TrimSpace(t[split:]))
	}
	v, err := strconv.ParseFloat(number, 64)
	if err != nil || v < 0 || math.IsInf(v, 0) || math.IsNaN(v) {
		return 0, fmt.Errorf("size %q: %q is not a number of 0 or more", s, number)
	}
	bytes := v * scale
	if bytes >= math.MaxInt64 {
		return 0, fmt.Errorf("size %q: over the largest size of %d bytes", s, int64(math.MaxInt64))
	}
	return int64(bytes), nil
}

func (b *byteSize) Set(s string) error {
	n, err := parseByteSize(s)
	if err != nil {
		return err
	}
	*b = byteSize(n)
	return nil
}

func (b *byteSize) String() string {
	if *b == 0 {
		return ""
	}
	return strconv.FormatInt(int64(*b), 10)
}

func (b *byteSize) Type() string { return "size" }
