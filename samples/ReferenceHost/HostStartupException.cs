namespace Anpm.ReferenceHost;

/// <summary>
/// A setting the host cannot start with: the message names the setting (<c>Anpm:Evm:KeyFile</c>, …) and what is wrong.
/// <c>Program</c> prints it on one line and exits with code 1, without a stack trace.
/// </summary>
public sealed class HostStartupException(string message, Exception? innerException = null) : Exception(message, innerException);
