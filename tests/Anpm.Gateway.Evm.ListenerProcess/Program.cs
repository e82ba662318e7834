// The child process of the deposit listener's kill test. It credits final deposits into a SQLite file, a few blocks per
// unit of work, printing "ready" and then "poll <credited> <cursor> <lastFinal>" after each poll, until the test kills it
// with SIGKILL at a random moment.
//   Anpm.Gateway.Evm.ListenerProcess <sqlite path> <rpc url> <chain id> <token> <custody>
using System.Globalization;
using Anpm.Abstractions;
using Anpm.Credits;
using Anpm.Gateway.Evm;
using Anpm.Storage.Sqlite;
using Microsoft.Extensions.Options;

var store = new SqliteAnpmStore(Options.Create(new SqliteStoreOptions { ConnectionString = $"Data Source={args[0]};Pooling=false" }), TimeProvider.System);
var treasury = Address.Parse("0x00000000000000000000000000000000000000aa");
var ledger = new Ledger(store, Options.Create(new LedgerOptions()), TimeProvider.System);
var outbox = new Outbox(store, ledger, new HeldGateway(), Options.Create(new OutboxOptions()), TimeProvider.System);
var credits = new CreditService(store, ledger, outbox, Options.Create(new CreditOptions { Treasury = treasury }), TimeProvider.System);
var notices = new TokenNoticeProcessor(store, ledger, outbox, TimeProvider.System, [credits]);
var listener = new EvmDepositListener(new NethereumChainClient(args[1]), store, notices, Options.Create(new EvmDepositOptions
{
    ChainId = ulong.Parse(args[2], CultureInfo.InvariantCulture),
    Token = args[3],
    Custody = args[4],
    Finality = EvmFinality.Depth(2),
    MaxBlocksPerRequest = 1, // a unit of work per block: many places to be killed in
}));
await listener.VerifyChainAsync();
Console.WriteLine("ready");

// The committed cursor as it moves (between polls too: a poll commits block after block).
_ = Task.Run(async () =>
{
    var last = -2L;
    while (true)
    {
        var cursor = await store.RunReadAsync(ulong.Parse(args[2], CultureInfo.InvariantCulture), static async (unitOfWork, chain, ct) =>
            (await unitOfWork.Chain.GetLatestBlockAsync(chain, ct))?.Number ?? -1);
        if (cursor != last)
        {
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"cursor {cursor}"));
            last = cursor;
        }

        await Task.Delay(5);
    }
});
while (true)
{
    var poll = await listener.PollAsync();
    Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"poll {poll.Credited} {poll.Cursor} {poll.LastFinal}"));
    await Task.Delay(20);
}

// Deposits only: nothing is paid out from here.
internal sealed class HeldGateway : ITokenGateway
{
    public ValueTask<GatewaySendResult> SendAsync(OutgoingTransfer transfer, CancellationToken cancellationToken = default) =>
        new(new GatewaySendResult(GatewaySendStatus.RetryLater));
}
