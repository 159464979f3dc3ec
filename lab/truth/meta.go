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

	// other implementations (peer_bg in lab/lib.sh, impl_bg in
	// lab/scenarios.d/impl2.sh), by side ("client"/"server")
	impls         map[string]*implMeta
	settings      map[string]settingMeta // meta setting SIDE NAME VALUE
	implCmd       map[string]string      // meta client_impl / server_impl COMMAND (e.g. another OpenSSH build)
	remoteCommand string                 // meta remote_command
	compression   string                 // meta compression: what the lab configured (free text)
	witnessIgnore bool                   // count SSH_MSG_IGNORE as probes (default; meta witness_ignore 0 turns it off)
}

type implMeta struct {
	side, log, command  string
	version             string // meta impl_version SIDE V, when the banner has none
	exit                *int
	started, endedByLab float64
}

type settingMeta struct {
	name, value string
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
	m := &meta{dir: filepath.Dir(path), port: 22, sysctls: map[string]map[string]string{"client": {}, "server": {}},
		impls: map[string]*implMeta{}, settings: map[string]settingMeta{}, implCmd: map[string]string{}, witnessIgnore: true}
	implByLog := map[string]*implMeta{}
	impl := func(side string) *implMeta {
		im := m.impls[side]
		if im == nil {
			im = &implMeta{side: side}
			m.impls[side] = im
		}
		return im
	}
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
		case "impl": // impl SIDE LOGNAME COMMAND
			if len(f) >= 3 {
				im := impl(v)
				im.log = f[2]
				if len(f) >= 4 {
					im.command = strings.Join(f[3:], " ")
				}
				implByLog[im.log] = im
			}
		case "impl_version":
			if len(f) >= 3 {
				impl(v).version = f[2]
			}
		case "impl_started", "impl_exit", "impl_ended_by_lab":
			if im := implByLog[v]; im != nil && len(f) >= 3 {
				switch f[0] {
				case "impl_started":
					im.started, _ = strconv.ParseFloat(f[2], 64)
				case "impl_ended_by_lab":
					im.endedByLab, _ = strconv.ParseFloat(f[2], 64)
				default:
					n, _ := strconv.Atoi(f[2])
					im.exit = &n
				}
			}
		case "setting":
			if len(f) >= 4 {
				m.settings[v] = settingMeta{name: f[2], value: f[3]}
			}
		case "client_impl", "server_impl":
			m.implCmd[strings.TrimSuffix(f[0], "_impl")] = strings.Join(f[1:], " ")
		case "remote_command":
			m.remoteCommand = strings.Join(f[1:], " ")
		case "compression":
			m.compression = strings.Join(f[1:], " ")
		case "witness_ignore":
			m.witnessIgnore = v != "0"
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
