extension Duration {
    /// The duration in seconds, as SQL intervals, JSON and arithmetic take it.
    public var inSeconds: Double {
        let (seconds, attoseconds) = self.components
        return Double(seconds) + Double(attoseconds) / 1e18
    }
}
