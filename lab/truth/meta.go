package main

import (
	"bufio"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// meta is what lab/captures.sh wrote about a scenario (lab/scratch/NAME/meta.tsv):
// tab-separated lines "key value...", see meta() in lab/lib.sh.
type meta struct {
	name, scenario, file string
	started, ended       float64
	capStart, capStop    float64
	captureCmd, capSide  string
	converted            string
	ip                   string
	port                 int
	sshdConfig           []string
	sysctls              map[string]map[string]string
	clients              []*clientMeta
	faults               []string
	faultAt              float64
	notes                []string
	sshdLogShared        bool
	typer                string
	router               string
	endCause, endWhy     string // declared by the scenario (meta end_cause)
	dir                  string // the scenario's work directory
}

type clientMeta struct {
	log     string
	options []string
	command string
	exit    *int
	started float64
}

func readMeta(path string) (*meta, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	m := &meta{dir: filepath.Dir(path), port: 22, sysctls: map[string]map[string]string{"client": {}, "server": {}}}
	byLog := map[string]*clientMeta{}
	cl := func(name string) *clientMeta {
		c := byLog[name]
		if c == nil {
			c = &clientMeta{log: name}
			byLog[name] = c
			m.clients = append(m.clients, c)
		}
		return c
	}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		f := strings.Split(sc.Text(), "\t")
		if len(f) < 2 {
			continue
		}
		v := f[1]
		switch f[0] {
		case "name":
			m.name = v
		case "scenario":
			m.scenario = v
		case "file":
			m.file = v
		case "started":
			m.started, _ = strconv.ParseFloat(v, 64)
		case "ended":
			m.ended, _ = strconv.ParseFloat(v, 64)
		case "cap_start":
			m.capStart, _ = strconv.ParseFloat(v, 64)
		case "cap_stop":
			m.capStop, _ = strconv.ParseFloat(v, 64)
		case "capture":
			m.captureCmd = v
		case "capture_side":
			m.capSide = v
		case "converted":
			m.converted = v
		case "ip":
			m.ip = v
		case "port":
			m.port, _ = strconv.Atoi(v)
		case "sshd_config":
			m.sshdConfig = append(m.sshdConfig, v)
		case "sshd_log_shared":
			m.sshdLogShared = v == "1"
		case "sysctl":
			if len(f) >= 4 {
				if m.sysctls[f[1]] == nil {
					m.sysctls[f[1]] = map[string]string{}
				}
				m.sysctls[f[1]][f[2]] = f[3]
			}
		case "fault":
			m.faults = append(m.faults, v)
		case "fault_at":
			if m.faultAt == 0 {
				m.faultAt, _ = strconv.ParseFloat(v, 64)
			}
		case "typer":
			m.typer = v
		case "router":
			m.router = v
		case "end_cause":
			m.endCause = v
			if len(f) >= 3 {
				m.endWhy = f[2]
			}
		case "note":
			m.notes = append(m.notes, v)
		case "client":
			c := cl(v)
			if len(f) >= 3 {
				c.started, _ = strconv.ParseFloat(f[2], 64)
			}
		case "ssh_option":
			if len(f) >= 3 {
				c := cl(v)
				c.options = append(c.options, f[2])
			}
		case "ssh_command":
			c := cl(v)
			if len(f) >= 3 {
				c.command = strings.Join(f[2:], " ")
			}
		case "ssh_exit":
			if len(f) >= 3 {
				n, _ := strconv.Atoi(f[2])
				cl(v).exit = &n
			}
		}
	}
	return m, sc.Err()
}

// optionValue returns the last "-o Key=Value" (or "Key Value" config line)
// value for key, case-insensitively, and whether it was set.
func optionValue(opts []string, key string) (string, bool) {
	val, ok := "", false
	for i, o := range opts {
		if o == "-o" && i+1 < len(opts) {
			k, v, found := strings.Cut(opts[i+1], "=")
			if found && strings.EqualFold(k, key) {
				val, ok = v, true
			}
		}
	}
	return val, ok
}

func configValue(lines []string, key string) (string, bool) {
	val, ok := "", false
	for _, l := range lines {
		k, v, found := strings.Cut(l, " ")
		if found && strings.EqualFold(k, key) {
			val, ok = strings.TrimSpace(v), true
		}
	}
	return val, ok
}
