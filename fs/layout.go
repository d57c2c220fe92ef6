package fs

import (
	"path/filepath"
	"strings"

	"miniais/cluster"
)

// Directory and file names of the on-disk layout (see the package doc).
const (
	workDirName    = ".work"
	providerDir    = "@" + cluster.ProviderAIS
	objectsDirName = "%ob"
	sidecarDirName = "%mt"
	putPrefix      = "put-"
	metaPrefix     = "meta-"
	trashPrefix    = "trash-"
	bucketIDName   = "bid"
)

// maxSegment is the longest segment of an object name (Linux NAME_MAX).
const maxSegment = 255

// checkNames validates a bucket and an object name before any disk access.
func checkNames(bck cluster.Bucket, name string) error {
	if err := bck.Validate(); err != nil {
		return err
	}
	if err := cluster.ValidateObjectName(name); err != nil {
		return err
	}
	for seg := range strings.SplitSeq(name, "/") {
		if len(seg) > maxSegment {
			return cluster.Errorf(cluster.ErrBadName, "object name %q has a segment longer than %d bytes", name, maxSegment)
		}
	}
	return nil
}

// workDir returns <mp>/.work.
func workDir(mp *Mountpath) string { return filepath.Join(mp.Path, workDirName) }

// bucketDir returns <mp>/@ais/<bucket>.
func bucketDir(mp *Mountpath, bck cluster.Bucket) string {
	return mp.Path + "/" + providerDir + "/" + bck.Name
}

// objectsDir returns <mp>/@ais/<bucket>/%ob.
func objectsDir(mp *Mountpath, bck cluster.Bucket) string {
	return bucketDir(mp, bck) + "/" + objectsDirName
}

// objectPath returns <mp>/@ais/<bucket>/%ob/<name>. bck and name must have
// passed checkNames; then the result always lies inside objectsDir.
func objectPath(mp *Mountpath, bck cluster.Bucket, name string) string {
	return objectsDir(mp, bck) + "/" + name
}

// bucketIDPath returns <mp>/@ais/<bucket>/bid, the bucket's ID.
func bucketIDPath(mp *Mountpath, bck cluster.Bucket) string {
	return bucketDir(mp, bck) + "/" + bucketIDName
}

// sidecarPath returns <mp>/@ais/<bucket>/%mt/<name>.
func sidecarPath(mp *Mountpath, bck cluster.Bucket, name string) string {
	return bucketDir(mp, bck) + "/" + sidecarDirName + "/" + name
}
