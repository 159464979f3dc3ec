package main

import (
	"fmt"
	"os"
	"os/user"
	"strconv"

	"golang.org/x/sys/unix"
	"kernel.org/pub/linux/libs/security/libcap/cap"
)

// confine runs once the capture socket and every output are open: nothing
// after needs a privilege, so none is kept while hostile bytes are parsed.
// With -Z the process becomes USER (as tcpdump -Z does); then every
// capability goes — effective, permitted, inheritable, ambient, and the
// bounding set where the process may drop it — and no_new_privs is set,
// so no exec can regain one. libcap's cap package applies each change to
// every OS thread of the process (Linux keeps them per thread).
func confine(name string) error {
	if name != "" {
		if err := switchUser(name); err != nil {
			return fmt.Errorf("-Z %s: %w", name, err)
		}
	}
	if err := dropCapabilities(); err != nil {
		return fmt.Errorf("dropping capabilities: %w", err)
	}
	if _, err := cap.Prctlw(unix.PR_SET_NO_NEW_PRIVS, 1); err != nil {
		return fmt.Errorf("no_new_privs: %w", err)
	}
	return nil
}

// switchUser sets the groups, gid and uid to name's.
func switchUser(name string) error {
	u, err := user.Lookup(name)
	if err != nil {
		return err
	}
	uid, err1 := strconv.Atoi(u.Uid)
	gid, err2 := strconv.Atoi(u.Gid)
	if err1 != nil || err2 != nil {
		return fmt.Errorf("user %s has a non-numeric uid/gid", name)
	}
	if uid == os.Getuid() && uid == os.Geteuid() && gid == os.Getgid() {
		return nil // already that user: a setcap'd binary run by it
	}
	set := cap.GetProc()
	canUID, _ := set.GetFlag(cap.Permitted, cap.SETUID)
	canGID, _ := set.GetFlag(cap.Permitted, cap.SETGID)
	if !canUID || !canGID {
		return fmt.Errorf("changing user needs root (or CAP_SETUID and CAP_SETGID); running as uid %d, whose capabilities are dropped after the capture opens anyway", os.Getuid())
	}
	if err := cap.SetGroups(gid); err != nil {
		return fmt.Errorf("setgroups: %w", err)
	}
	if err := cap.SetUID(uid); err != nil {
		return fmt.Errorf("setuid: %w", err)
	}
	return nil
}

// dropCapabilities empties every capability set the process holds.
func dropCapabilities() error {
	if err := cap.ResetAmbient(); err != nil {
		return fmt.Errorf("ambient: %w", err)
	}
	if ok, _ := cap.GetProc().GetFlag(cap.Permitted, cap.SETPCAP); ok {
		// Dropping from the bounding set needs CAP_SETPCAP effective.
		set := cap.GetProc()
		if err := set.SetFlag(cap.Effective, true, cap.SETPCAP); err != nil {
			return err
		}
		if err := set.SetProc(); err != nil {
			return err
		}
		for v := cap.Value(0); v < cap.MaxBits(); v++ {
			if in, err := cap.GetBound(v); err == nil && in {
				if err := cap.DropBound(v); err != nil {
					return fmt.Errorf("bounding set: %w", err)
				}
			}
		}
	}
	return cap.NewSet().SetProc()
}
