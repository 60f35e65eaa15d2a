// su-exec for the stand-in images: `su-exec USER[:GROUP] COMMAND [ARGS...]` switches to USER (and
// its groups) and executes COMMAND in place, as Alpine's su-exec does in the official postgres and
// nextcloud images. Busybox's setpriv cannot change the user, so this small static program does.
package main

import (
	"fmt"
	"os"
	"os/exec"
	"os/user"
	"strconv"
	"strings"
	"syscall"
)

func fail(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "su-exec: "+format+"\n", args...)
	os.Exit(1)
}

func lookupUser(name string) (uid, gid int, home string, groups []int) {
	u, err := user.Lookup(name)
	if err != nil {
		u, err = user.LookupId(name)
	}
	if err != nil {
		n, convErr := strconv.Atoi(name)
		if convErr != nil {
			fail("unknown user %q", name)
		}
		return n, n, "/", []int{n}
	}
	uid, _ = strconv.Atoi(u.Uid)
	gid, _ = strconv.Atoi(u.Gid)
	ids, _ := u.GroupIds()
	for _, id := range ids {
		if n, err := strconv.Atoi(id); err == nil {
			groups = append(groups, n)
		}
	}
	return uid, gid, u.HomeDir, groups
}

func main() {
	if len(os.Args) < 3 {
		fail("usage: su-exec USER[:GROUP] COMMAND [ARGS...]")
	}
	spec := strings.SplitN(os.Args[1], ":", 2)
	uid, gid, home, groups := lookupUser(spec[0])
	if len(spec) == 2 && spec[1] != "" {
		if g, err := user.LookupGroup(spec[1]); err == nil {
			gid, _ = strconv.Atoi(g.Gid)
		} else if n, err := strconv.Atoi(spec[1]); err == nil {
			gid = n
		} else {
			fail("unknown group %q", spec[1])
		}
		groups = []int{gid}
	}
	path, err := exec.LookPath(os.Args[2])
	if err != nil {
		fail("%s: %v", os.Args[2], err)
	}
	if err := syscall.Setgroups(groups); err != nil {
		fail("setgroups: %v", err)
	}
	if err := syscall.Setgid(gid); err != nil {
		fail("setgid: %v", err)
	}
	if err := syscall.Setuid(uid); err != nil {
		fail("setuid: %v", err)
	}
	os.Setenv("HOME", home)
	if err := syscall.Exec(path, os.Args[2:], os.Environ()); err != nil {
		fail("%s: %v", path, err)
	}
}
