//! The images a Faultline node can run, as pure data. Nothing is pulled: an image reference
//! names one of three built-in programs, whatever registry or tag it carries, and any other
//! image fails to pull (ErrImagePull, then ImagePullBackOff), as a missing image would.

public enum BuiltinImage: Sendable, Equatable, CaseIterable {
    /// An HTTP server on each containerPort answering with the pod's name.
    case echo
    /// Runs the container's command and args through /bin/sh when it has any, else sleeps until
    /// SIGTERM and exits 0.
    case sleeper
    /// Exits with code 1 after a while: a container in a crash loop.
    case crasher

    /// Repository paths under `faultline/` name the program exactly.
    static let faultlineRepositories: [(String, BuiltinImage)] = [
        ("faultline/echo", .echo), ("faultline/http", .echo), ("faultline/sleeper", .sleeper), ("faultline/crasher", .crasher),
    ]
    /// Well-known public images, by the last component of their repository path, mapped to the
    /// program that behaves enough like them: web servers answer HTTP, base images run a shell.
    static let wellKnownNames: [(String, BuiltinImage)] = [
        ("nginx", .echo), ("httpd", .echo), ("echoserver", .echo),
        ("busybox", .sleeper), ("pause", .sleeper), ("alpine", .sleeper), ("ubuntu", .sleeper), ("debian", .sleeper),
    ]

    /// What the pull error lists as the images that do exist.
    public static let knownImagesDescription =
        (faultlineRepositories.map(\.0) + wellKnownNames.map(\.0)).joined(separator: ", ")

    /// The program an image reference names: any registry (`docker.io/library/`,
    /// `registry.k8s.io/`, `localhost:5000/`), any tag, any digest; nil for an image that is
    /// not built in or a reference that does not parse (repository paths are lowercase).
    public static func resolve(image: String) -> BuiltinImage? {
        guard let path = repositoryPath(image) else { return nil }
        if let exact = faultlineRepositories.first(where: { $0.0 == path }) { return exact.1 }
        if path.hasPrefix("faultline/") { return nil }
        let lastComponent = path.split(separator: "/").last.map(String.init) ?? path
        return wellKnownNames.first { $0.0 == lastComponent }?.1
    }

    /// `docker.io/library/nginx:1.27@sha256:…` → `nginx`: the reference without its registry
    /// host, Docker Hub's `library/` namespace, its tag and its digest.
    static func repositoryPath(_ image: String) -> String? {
        var name = Substring(image)
        if let at = name.firstIndex(of: "@") { name = name[..<at] }
        // A tag lives in the last component; a colon before it is a registry's port.
        let lastComponentStart = name.lastIndex(of: "/").map { name.index(after: $0) } ?? name.startIndex
        if let colon = name[lastComponentStart...].lastIndex(of: ":") { name = name[..<colon] }
        var components = name.split(separator: "/", omittingEmptySubsequences: false)
        if components.count > 1, components[0] == "localhost" || components[0].contains(".") || components[0].contains(":") {
            components.removeFirst()
        }
        if components.count > 1, components[0] == "library" { components.removeFirst() }
        guard !components.isEmpty, components.allSatisfy({ !$0.isEmpty && !$0.contains(where: \.isUppercase) }) else { return nil }
        return components.joined(separator: "/")
    }
}
