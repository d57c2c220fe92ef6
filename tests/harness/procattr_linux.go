package harness

import "syscall"

// sysProcAttr makes a child die with the test binary (SIGKILL on parent death), so that a
// test that panics or times out leaves no node behind.
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
