package main

import (
	"runtime/debug"
	"testing"
)

func TestDescribeVersion(t *testing.T) {
	vcs := func(rev, modified string) []debug.BuildSetting {
		return []debug.BuildSetting{{Key: "vcs.revision", Value: rev}, {Key: "vcs.modified", Value: modified}}
	}
	tests := []struct {
		linked string
		bi     *debug.BuildInfo
		want   string
	}{
		{"v1.2.0", &debug.BuildInfo{Main: debug.Module{Version: "v9"}}, "v1.2.0"},  // release build: -ldflags wins
		{"dev", &debug.BuildInfo{Main: debug.Module{Version: "v1.3.0"}}, "v1.3.0"}, // go install ...@v1.3.0
		{"dev", &debug.BuildInfo{Main: debug.Module{Version: "(devel)"}, Settings: vcs("0123456789abcdef0123", "false")}, "dev (0123456789ab)"},
		{"dev", &debug.BuildInfo{Main: debug.Module{Version: "(devel)"}, Settings: vcs("0123456789abcdef0123", "true")}, "dev (0123456789ab, modified)"},
		{"dev", &debug.BuildInfo{Main: debug.Module{Version: "(devel)"}}, "dev"},
		{"dev", nil, "dev"},
	}
	for _, tt := range tests {
		if got := describeVersion(tt.linked, tt.bi); got != tt.want {
			t.Errorf("describeVersion(%q, %+v) = %q, want %q", tt.linked, tt.bi, got, tt.want)
		}
	}
}
