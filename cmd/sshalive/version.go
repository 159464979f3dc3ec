package main

import "runtime/debug"

// version is set at link time (-ldflags "-X main.version=v1.2.3") by
// release builds; otherwise the module's version (go install ...@v1.2.3)
// or the commit the binary was built from is told.
var version = "dev"

func versionString() string {
	bi, _ := debug.ReadBuildInfo()
	return describeVersion(version, bi)
}

// describeVersion: the link-time version, else the module version, else
// "dev" with the VCS revision (and "modified" for a dirty tree) when the
// build recorded one.
func describeVersion(linked string, bi *debug.BuildInfo) string {
	if linked != "dev" || bi == nil {
		return linked
	}
	if v := bi.Main.Version; v != "" && v != "(devel)" {
		return v
	}
	rev, dirty := "", false
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.modified":
			dirty = s.Value == "true"
		}
	}
	if rev == "" {
		return linked
	}
	out := "dev (" + rev[:min(12, len(rev))]
	if dirty {
		out += ", modified"
	}
	return out + ")"
}
