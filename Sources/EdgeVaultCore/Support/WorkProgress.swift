/// Where long work reports how far it got (vault-cli draws a progress bar on a terminal).
public protocol WorkProgress: AnyObject, Sendable {
    /// How much there is to do, in the work's unit; settable once it is known.
    var total: Int64 { get set }
    func advance(by n: Int64)
}
