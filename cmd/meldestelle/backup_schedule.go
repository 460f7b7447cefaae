package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"time"

	"github.com/planb-ruhr/meldestelle/storage"
)

// backupStamp is a scheduled backup's time in its name, in UTC: names
// sort in time order, and a change of the office's summer time never
// makes two names collide.
const backupStamp = "20060102T150405Z"

// backupName matches the scheduled backups' names, and only them: pruning
// never touches a file someone else put in the directory.
var backupName = regexp.MustCompile(`^meldestelle-(\d{8}T\d{6}Z)\.db$`)

// backupTemp matches a scheduled backup still being written; one left
// behind by a crash is removed at the next backup.
var backupTemp = regexp.MustCompile(`^\.meldestelle-\d{8}T\d{6}Z\.db\.tmp$`)

// backupFirstDelay is how long the service waits after its start before a
// backup that is due: the start's own work (migrations, the retention
// run) goes first.
const backupFirstDelay = time.Minute

// backupSchedule makes the scheduled backups of the running service.
type backupSchedule struct {
	db     *storage.DB
	dir    string
	every  time.Duration
	keep   int
	now    func() time.Time
	logger *slog.Logger
	// firstDelay: backupFirstDelay; tests shorten it.
	firstDelay time.Duration
}

// Run makes a backup whenever one is due until ctx ends. A failure is
// logged and tried again at the next interval: a full backup disk must
// not take the reporting form down with it.
func (s *backupSchedule) Run(ctx context.Context) {
	wait := s.untilNext()
	for {
		select {
		case <-ctx.Done():
			return
		case <-time.After(wait):
		}
		path, err := s.once(ctx)
		if err != nil {
			if ctx.Err() != nil {
				return
			}
			s.logger.Error("scheduled backup failed; next try after the interval", "dir", s.dir, "every", s.every, "err", err)
		} else {
			s.logger.Info("scheduled backup written", "path", path)
		}
		wait = s.every
	}
}

// untilNext is the wait before the first backup: firstDelay if the newest
// backup is older than the interval (or there is none), else the rest of
// its interval, so that restarts neither skip nor pile up backups.
func (s *backupSchedule) untilNext() time.Duration {
	newest, _, err := newestBackup(s.dir)
	if err != nil || newest.IsZero() {
		return s.firstDelay
	}
	left := newest.Add(s.every).Sub(s.now())
	if left <= s.firstDelay {
		return s.firstDelay
	}
	return left
}

// once writes one backup and prunes the old ones. The copy is written
// under a temporary name and renamed when complete and on disk, so a
// file with a backup's name is always a whole backup.
func (s *backupSchedule) once(ctx context.Context) (string, error) {
	// 0700 like the data directory, also for a directory made by hand: the
	// copy shows who was received when.
	if err := os.MkdirAll(s.dir, 0o700); err != nil {
		return "", fmt.Errorf("backup directory: %w", err)
	}
	if err := os.Chmod(s.dir, 0o700); err != nil {
		return "", fmt.Errorf("backup directory: %w", err)
	}
	name := "meldestelle-" + s.now().UTC().Format(backupStamp) + ".db"
	final := filepath.Join(s.dir, name)
	if _, err := os.Lstat(final); err == nil {
		return "", fmt.Errorf("backup %s: exists already", final)
	}
	tmp := filepath.Join(s.dir, "."+name+".tmp")
	if err := s.db.Backup(ctx, tmp); err != nil {
		return "", err
	}
	if err := syncFile(tmp); err != nil {
		os.Remove(tmp)
		return "", fmt.Errorf("backup %s: %w", tmp, err)
	}
	if err := os.Rename(tmp, final); err != nil {
		os.Remove(tmp)
		return "", fmt.Errorf("backup %s: %w", final, err)
	}
	if err := syncFile(s.dir); err != nil {
		return final, fmt.Errorf("backup %s: %w", final, err)
	}
	return final, s.prune(name)
}

// prune removes the scheduled backups beyond the newest keep, and the
// temporary files of backups that never completed (other than current's).
func (s *backupSchedule) prune(current string) error {
	entries, err := os.ReadDir(s.dir)
	if err != nil {
		return fmt.Errorf("backup prune: %w", err)
	}
	var backups []string
	var errs []error
	for _, e := range entries {
		if !e.Type().IsRegular() {
			continue
		}
		switch {
		case backupName.MatchString(e.Name()):
			backups = append(backups, e.Name())
		case backupTemp.MatchString(e.Name()) && e.Name() != "."+current+".tmp":
			errs = append(errs, os.Remove(filepath.Join(s.dir, e.Name())))
		}
	}
	slices.Sort(backups) // the UTC stamps sort in time order
	for len(backups) > s.keep {
		errs = append(errs, os.Remove(filepath.Join(s.dir, backups[0])))
		backups = backups[1:]
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("backup prune: %w", err)
	}
	return nil
}

// newestBackup returns the time and path of the newest scheduled backup
// in dir, by its name; the zero time if there is none or no directory.
func newestBackup(dir string) (time.Time, string, error) {
	entries, err := os.ReadDir(dir)
	if errors.Is(err, os.ErrNotExist) {
		return time.Time{}, "", nil
	}
	if err != nil {
		return time.Time{}, "", fmt.Errorf("backup directory: %w", err)
	}
	var newest time.Time
	var path string
	for _, e := range entries {
		m := backupName.FindStringSubmatch(e.Name())
		if m == nil || !e.Type().IsRegular() {
			continue
		}
		t, err := time.Parse(backupStamp, m[1])
		if err == nil && t.After(newest) {
			newest, path = t, filepath.Join(dir, e.Name())
		}
	}
	return newest, path, nil
}

// syncFile flushes a file or directory to disk.
func syncFile(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	return f.Sync()
}
