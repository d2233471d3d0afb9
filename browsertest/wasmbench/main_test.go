package main

import "testing"

func TestChromeVersion(t *testing.T) {
	for ua, want := range map[string]string{
		"Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/156.0.0.0 Safari/537.36": "156.0.0.0",
		"Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.6099.224 Safari/537.36":    "120.0.6099.224",
		"Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0":                                        "(version unknown)",
	} {
		if got := chromeVersion(ua); got != want {
			t.Errorf("chromeVersion(%q) = %q, want %q", ua, got, want)
		}
	}
}
