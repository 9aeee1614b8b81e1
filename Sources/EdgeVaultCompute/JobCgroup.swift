#if canImport(Glibc)
import Glibc
#endif
import SystemPackage

/// A fresh cgroup v2 directory for one sandbox, under a directory delegated to the vault's
/// user (docs/SECURITY.md §"The compute sandbox", layer 9): `memory.max` caps everything the
/// sandbox process holds, not only the guest's pages; the kernel kills it past that.
struct JobCgroup {
    let path: FilePath

    /// Creates `parent/edgevault-job-PID`, sets `memory.max` and moves `pid` into it.
    static func enter(parent: FilePath, pid: pid_t, memoryMax: Int) throws -> JobCgroup {
        let path = parent.appending("edgevault-job-\(pid)")
        guard mkdir(path.string, 0o755) == 0 else { throw ChildProcess.SpawnFailed(reason: "cgroup \(path): mkdir: \(String(cString: strerror(errno)))") }
        let cgroup = JobCgroup(path: path)
        do {
            try cgroup.write("memory.max", "\(memoryMax)\n")
            try cgroup.write("cgroup.procs", "\(pid)\n")
        } catch {
            cgroup.remove()
            throw error
        }
        return cgroup
    }

    /// Removes the directory (the child is reaped: the cgroup is empty).
    func remove() {
        _ = rmdir(path.string)
    }

    private func write(_ file: String, _ text: String) throws {
        let target = path.appending(file)
        let fd = open(target.string, O_WRONLY | O_CREAT | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw ChildProcess.SpawnFailed(reason: "cgroup \(target): \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        let bytes = Array(text.utf8)
        guard Glibc.write(fd, bytes, bytes.count) == bytes.count else {
            throw ChildProcess.SpawnFailed(reason: "cgroup \(target): \(String(cString: strerror(errno)))")
        }
    }
}
