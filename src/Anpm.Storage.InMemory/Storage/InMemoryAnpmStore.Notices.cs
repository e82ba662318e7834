using Anpm.Abstractions;

namespace Anpm.Storage.InMemory;

public sealed partial class InMemoryAnpmStore
{
    private readonly Dictionary<string, TokenNotice> _notices = new(StringComparer.Ordinal);

    private sealed partial class UnitOfWork : INoticeStore
    {
        public ValueTask<bool> TryInsertNoticeAsync(TokenNotice notice, CancellationToken cancellationToken = default)
        {
            ArgumentNullException.ThrowIfNull(notice);
            ArgumentException.ThrowIfNullOrEmpty(notice.MessageId);
            var store = Writable;
            if (!store._notices.TryAdd(notice.MessageId, notice))
            {
                return new ValueTask<bool>(false);
            }

            store.Record(static (s, entry) => s._notices.Remove(((TokenNotice)entry.Previous!).MessageId), notice);
            return new ValueTask<bool>(true);
        }

        public ValueTask<TokenNotice?> GetNoticeAsync(string messageId, CancellationToken cancellationToken = default) =>
            new(messageId is null ? null : Store._notices.GetValueOrDefault(messageId));
    }
}
