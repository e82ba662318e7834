using Anpm.Abstractions;

namespace Anpm.Abstractions.Tests;

/// <summary>A processed chain block: hashes normalized to lower case, and every bad field refused with its name.</summary>
public sealed class ChainBlockTests
{
    private static readonly string Hash = "0x" + new string('A', 64);
    private static readonly string Parent = "0x" + new string('b', 64);

    [Fact]
    public void Create_LowerCasesHashes_AndKeepsTheRest()
    {
        var time = new DateTimeOffset(2026, 11, 29, 12, 0, 0, TimeSpan.FromHours(1));
        var block = new ChainBlock(8453, 42, Hash, Parent.ToUpperInvariant().Replace("0X", "0x", StringComparison.Ordinal), time);
        Assert.Equal((8453UL, 42L, "0x" + new string('a', 64), Parent, time), (block.ChainId, block.Number, block.Hash, block.ParentHash, block.Timestamp));
        Assert.Equal($"block 42 0x{new string('a', 64)} of chain 8453", block.ToString());
        Assert.Equal(block, new ChainBlock(8453, 42, Hash.ToLowerInvariant(), Parent, time));
    }

    [Theory]
    [InlineData(0UL, 1L, "hash-ok", "chainId")]
    [InlineData(ChainBlock.MaxChainId + 1, 1L, "hash-ok", "chainId")]
    [InlineData(1UL, -1L, "hash-ok", "number")]
    [InlineData(1UL, 1L, "0x1234", "hash")]
    [InlineData(1UL, 1L, "1x" + "00", "hash")]
    [InlineData(1UL, 1L, "0xzz00000000000000000000000000000000000000000000000000000000000000", "hash")]
    public void BadFields_AreRefusedByName(ulong chainId, long number, string hash, string parameter)
    {
        var value = hash == "hash-ok" ? Hash : hash;
        var error = Assert.ThrowsAny<ArgumentException>(() => new ChainBlock(chainId, number, value, Parent, DateTimeOffset.UnixEpoch));
        Assert.Equal(parameter, error.ParamName);
    }

    [Fact]
    public void ABadParentHash_IsRefusedByName() =>
        Assert.Equal("parentHash", Assert.Throws<ArgumentException>(() => new ChainBlock(1, 1, Hash, "0x", DateTimeOffset.UnixEpoch)).ParamName);
}
