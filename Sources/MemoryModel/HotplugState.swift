/// State memory hotplug keeps besides the blocks themselves (mm/memory_hotplug.c globals).
public struct HotplugState: Sendable {
    public init() {}
}
