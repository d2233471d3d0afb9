package bench

import (
	"strings"
	"testing"
)

const procStatus = `Name:	onnxrun
Umask:	0022
State:	R (running)
VmPeak:	 1254320 kB
VmSize:	 1254320 kB
VmHWM:	   70144 kB
VmRSS:	   68008 kB
Threads:	7
`

func TestParseProcStatus(t *testing.T) {
	got, err := parseProcStatus(strings.NewReader(procStatus))
	if err != nil {
		t.Fatal(err)
	}
	want := ProcMemory{VmHWM: 70144 << 10, VmRSS: 68008 << 10, VmPeak: 1254320 << 10}
	if got != want {
		t.Errorf("got %+v, want %+v", got, want)
	}

	bad := []struct {
		name, text, want string
	}{
		{"missing lines", "Name:\tx\nVmRSS:\t 10 kB\n", "1 of the lines"},
		{"not a number", "VmHWM:\t many kB\nVmRSS:\t1 kB\nVmPeak:\t1 kB\n", `"many" is not a size`},
		{"other unit", "VmHWM:\t 10 MB\n", `want "VmHWM: <n> kB"`},
	}
	for _, tc := range bad {
		t.Run(tc.name, func(t *testing.T) {
			_, err := parseProcStatus(strings.NewReader(tc.text))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %v, want one containing %q", err, tc.want)
			}
		})
	}
}

// On Linux the real file parses and the peak is at least the current size.
func TestReadProcMemory(t *testing.T) {
	m, err := ReadProcMemory()
	if err != nil {
		t.Skipf("no /proc/self/status here: %v", err)
	}
	if m.VmHWM <= 0 || m.VmHWM < m.VmRSS {
		t.Errorf("VmHWM %d, VmRSS %d: want 0 < VmRSS <= VmHWM", m.VmHWM, m.VmRSS)
	}
}

func TestBytes(t *testing.T) {
	tests := []struct {
		n    int64
		want string
	}{
		{0, "0 B"},
		{1023, "1023 B"},
		{1536, "1.5 KiB"},
		{70144 << 10, "68.5 MiB"},
		{3 << 30, "3.0 GiB"},
		{5 << 40, "5.0 TiB"},
	}
	for _, tc := range tests {
		if got := Bytes(tc.n); got != tc.want {
			t.Errorf("Bytes(%d) = %q, want %q", tc.n, got, tc.want)
		}
	}
}
