using System.Text;
using Anpm.Abstractions;

namespace Anpm.Signing.Tests;

/// <summary>Known answers computed by ethers 6 (Wallet.signMessageSync, SigningKey.sign, hashMessage).</summary>
public sealed class SignatureVectorTests
{
    public static TheoryData<string, string, string, string, string, string, string> Vectors => new()
    {
        {
            "0x0000000000000000000000000000000000000000000000000000000000000001", "0x7E5F4552091A69125d5DfCb7b8C2659029395Bdf", "",
            "0x5f35dce98ba4fba25530a026ed80b2cecdaa31091ba4958b99b52ea1d068adad",
            "0x0ac02a3eb3039b7a3ebb6a35f1e0dd31a4ed51781205a2c193354752a25edad50593868baf38c519b78bdc61a23c3f55e058c29f8b83d79ae48cc47d931afaed1b",
            "0x5f2b977c2478b2f86edf721fead906336e3b304d5927643306680574af3e18b5",
            "0xba2156580b4de00b02dab0bd2f0430071e39d227e19ef1563dd34eaa373a973001647636f6d427b14cde4e3b61ffc4ddede5146d02c4fea17310fde41cb37cdf1b"
        },
        {
            "0x4c0883a69102937d6231471b5dbb6204fe5129617082792ae468d01a3f362318", "0x2c7536E3605D9C16a7a3D7b1898e529396a65c23", "hello",
            "0x50b2c43fd39106bafbba0da34fc430e1f91e3c96ea2acee2bc34119f92b37750",
            "0xa5d58782075bdf09490159d634d1aae66a8f6777c7247d2f233e9511cfd7c64c34f288cdbcea5370e4863fdbe9f4d86654c2ba1d86589e9ebb64494c649008591b",
            "0x381f18a9e76af613a4fff535b97bb68a0cef052d8f71e52c713994c89de4ab5d",
            "0xc9a58f1cf8d3b60521f18e8e08fbf199fc330d40bdd105d2718075f8dd0140667cf041bd2dfe935e405cc3e010ba2c47ffa5a5b2d8cc1af6dcb05b3d0d0b33821b"
        },
        {
            "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80", "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266", "Anpm ✓ pools",
            "0x0b938f5c5cd0a7e71df4682227f91bd8de077c9b3efbedd2149889ad0c56c081",
            "0x36066716d575195970f8464b227e5f1e1c32f8ed3f717961484290265fc0b74927711d95aa4cba868bd314b6e82c30736e7fdb99b24c5064dce707129d08cfe81b",
            "0x3deabc47e11ba321a492e6ec817c93c073825979c2d6eeaffda2dfb581dea263",
            "0x604ca3b3eb876ad6d628e4332c6fe636df3eb4b81209fbdb0146be92ee64726626e3a0d2dc52fd6557cee592e6366759d52b91558e074308e0d4dca2be50069a1c"
        },
        {
            "0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364140", "0x80C0dbf239224071c59dD8970ab9d542E3414aB2", new string('x', 300),
            "0xef5034cceedafbb2fbdcf11074a6654ab170406a79b828e13106e9e85edead58",
            "0xe487ca101fd43f6390a1e988bcb08814a1c465d403c34976a7c578dbf3e7730a660c8c3df63b1e3ca2590a71291b08186fbe009af52876b93a95330e8589117a1b",
            "0x36b7c47deb95e596781373c31099e3d26bf16908fa091ff110cfbdb7dcab2908",
            "0x554f50a3aa44286f9740c888541b2176728ec4d527123ba1248f334f441a39646631b429cfdeb252ba34a2a2c41cbd2f293c2b94489f8a518e5b1209b95ea4df1c"
        },
    };

    [Theory]
    [MemberData(nameof(Vectors))]
    public void BothBackends_MatchEthers(string key, string address, string message, string digest, string personalSignature, string rawHash, string rawSignature)
    {
        Assert.Equal(digest, "0x" + Convert.ToHexStringLower(PersonalMessage.Hash(message)));
        foreach (var backend in new[] { Backends.Native, Backends.Managed })
        {
            using var ethereumKey = EthereumKey.FromHex(key, backend);
            Assert.Equal(address, ethereumKey.Address.ToChecksumString());
            Assert.Equal(personalSignature, ethereumKey.SignPersonalMessage(Encoding.UTF8.GetBytes(message)).ToString());
            var hash = Convert.FromHexString(rawHash[2..]);
            Assert.Equal(rawSignature, ethereumKey.SignHash(hash).ToString());
            Assert.True(SignatureRecovery.TryRecoverAddress(hash, EthereumSignature.Parse(rawSignature), out var signer, out _, backend));
            Assert.Equal(Address.Parse(address), signer);
            Assert.True(SignatureRecovery.TryRecoverAddress(PersonalMessage.Hash(message), EthereumSignature.Parse(personalSignature), out signer, out _, backend));
            Assert.Equal(Address.Parse(address), signer);
        }
    }
}
