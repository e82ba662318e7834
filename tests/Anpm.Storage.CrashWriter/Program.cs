// The child process of the crash-safety tests. It streams transfers into a store and prints "ack <id>" after each
// transfer's unit of work committed, until the test kills it with SIGKILL at a random moment.
//   Anpm.Storage.CrashWriter sqlite <path>
//   Anpm.Storage.CrashWriter postgres <connection string> <schema>
using System.Globalization;
using Anpm.Abstractions;
using Anpm.Credits;
using Anpm.Storage.Postgres;
using Anpm.Storage.Sqlite;
using Microsoft.Extensions.Options;

IAnpmStore store = args[0] switch
{
    "sqlite" => new SqliteAnpmStore(Options.Create(new SqliteStoreOptions { ConnectionString = $"Data Source={args[1]};Pooling=false" }), TimeProvider.System),
    "postgres" => new PostgresAnpmStore(Options.Create(new PostgresStoreOptions { ConnectionString = args[1], Schema = args[2] }), TimeProvider.System),
    _ => throw new ArgumentException("Usage: sqlite <path> | postgres <connection string> <schema>"),
};
var ledger = new Ledger(store, Options.Create(new LedgerOptions()), TimeProvider.System);
var kind = TransferKind.Parse("crash-test");
var users = Enumerable.Range(0, 8).Select(i => AccountId.Parse("user-" + i)).ToArray();
var mint = AccountId.Parse("mint");
var accounts = new List<NewAccount> { new(mint, WellKnownAssets.Apus, AccountFlags.None) };
accounts.AddRange(users.Select(u => new NewAccount(u, WellKnownAssets.Apus, AccountFlags.DebitsMustNotExceedCredits)));
foreach (var result in await ledger.CreateAccountsAsync(accounts))
{
    if (!result.IsSuccess())
    {
        throw new InvalidOperationException($"Creating accounts failed: {result}.");
    }
}

// Each run uses fresh ids, so a test can start the writer again on the same store.
var run = Guid.NewGuid().ToString("N")[..8];
var random = new Random();
Console.WriteLine("ready");
for (var i = 0; ; i++)
{
    var id = $"{run}-{i.ToString(CultureInfo.InvariantCulture)}";
    TransferRequest Move(string suffix, AccountId debit, AccountId credit, int amount, TransferFlags flags = TransferFlags.None) => new()
    {
        Id = TransferId.Parse(id + suffix),
        DebitAccountId = debit,
        CreditAccountId = credit,
        Asset = WellKnownAssets.Apus,
        Amount = new TokenAmount((ulong)amount),
        Kind = kind,
        Flags = flags,
    };

    var from = users[random.Next(users.Length)];
    var to = users[random.Next(users.Length)];
    TransferRequest[] batch = to == from
        ? [Move("-in", mint, from, random.Next(1, 100))]
        :
        [
            Move("-in", mint, from, random.Next(50, 100), TransferFlags.Linked),
            Move("-hold", from, to, random.Next(1, 50), TransferFlags.Pending | TransferFlags.Linked),
            TransferRequest.PostPending(TransferId.Parse(id + "-post"), TransferId.Parse(id + "-hold"), kind) with { Flags = TransferFlags.PostPending | TransferFlags.Linked },
            Move("-out", to, mint, 1),
        ];
    var results = await ledger.CreateTransfersAsync(batch);
    if (results.Any(r => r != CreateTransferResult.Created))
    {
        throw new InvalidOperationException($"Batch {id} failed: {string.Join(", ", results)}.");
    }

    foreach (var transfer in batch)
    {
        Console.WriteLine("ack " + transfer.Id);
    }

    Console.Out.Flush();
}
